// The state root's ownership rule: the root is the caller's and private; its
// parent cannot be used by another user to replace it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/error.hpp"
#include "state/store.hpp"
#include "temp_dir.hpp"

namespace {

using urun::Error;
using urun::state::check_state_root;
using urun::state::describe_root_problem;
using urun::state::DirOwnership;
using urun::state::RootProblem;
using urun::state::StateStore;
using urun_test::TempDir;

constexpr uid_t kMe = 1000;
constexpr uid_t kOther = 1002;

DirOwnership dir(uid_t uid, mode_t perm) { return {uid, static_cast<mode_t>(S_IFDIR | perm)}; }

TEST(StateRootRule, PrivateRootInAPrivateOrSystemParentIsFine) {
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(kMe, 0700), kMe), RootProblem::none);
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(0, 0755), kMe), RootProblem::none);
  // Readable by others is their business; only writing is the problem.
  EXPECT_EQ(check_state_root(dir(kMe, 0755), dir(kMe, 0711), kMe), RootProblem::none);
  // Root with /run/urun in /run.
  EXPECT_EQ(check_state_root(dir(0, 0700), dir(0, 0755), 0), RootProblem::none);
}

TEST(StateRootRule, StickySharedParentIsFine) {
  // A 1777 XDG_RUNTIME_DIR or /tmp: others cannot rename our urun/ away.
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(0, 01777), kMe), RootProblem::none);
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(kMe, 01777), kMe), RootProblem::none);
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(0, 01770), kMe), RootProblem::none);
}

TEST(StateRootRule, RootOfAnotherUserIsRefused) {
  EXPECT_EQ(check_state_root(dir(kOther, 0700), dir(0, 01777), kMe), RootProblem::root_owner);
  EXPECT_EQ(check_state_root(dir(kOther, 0777), dir(0, 01777), kMe), RootProblem::root_owner);
  // Root does not use a root another user owns either: that user could plant state.
  EXPECT_EQ(check_state_root(dir(kOther, 0700), dir(0, 0755), 0), RootProblem::root_owner);
  // Nor does a user use root's.
  EXPECT_EQ(check_state_root(dir(0, 0700), dir(0, 0755), kMe), RootProblem::root_owner);
}

TEST(StateRootRule, RootWritableByOthersIsRefused) {
  EXPECT_EQ(check_state_root(dir(kMe, 0777), dir(kMe, 0700), kMe), RootProblem::root_writable);
  EXPECT_EQ(check_state_root(dir(kMe, 01777), dir(kMe, 0700), kMe), RootProblem::root_writable);
  EXPECT_EQ(check_state_root(dir(kMe, 0770), dir(kMe, 0700), kMe), RootProblem::root_writable);
  EXPECT_EQ(check_state_root(dir(kMe, 0702), dir(kMe, 0700), kMe), RootProblem::root_writable);
  EXPECT_EQ(check_state_root(dir(0, 0777), dir(0, 0755), 0), RootProblem::root_writable);
}

TEST(StateRootRule, ReplaceableThroughTheParentIsRefused) {
  // The parent's owner can always rename entries, sticky or not.
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(kOther, 0755), kMe), RootProblem::parent_owner);
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(kOther, 01777), kMe), RootProblem::parent_owner);
  // Others who may write it, without the sticky bit.
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(0, 0777), kMe), RootProblem::parent_writable);
  EXPECT_EQ(check_state_root(dir(kMe, 0700), dir(kMe, 0770), kMe), RootProblem::parent_writable);
  EXPECT_EQ(check_state_root(dir(0, 0700), dir(0, 0777), 0), RootProblem::parent_writable);
}

TEST(StateRootRule, MessagesNameThePathAndTheFix) {
  EXPECT_EQ(describe_root_problem(RootProblem::root_owner, "/x/urun", dir(kOther, 0777), "/x",
                                  dir(0, 01777), kMe),
            "state root `/x/urun` belongs to uid 1002, not to you (uid 1000): its owner controls "
            "the containers' state; remove it or pass --root with a directory of your own");
  EXPECT_EQ(describe_root_problem(RootProblem::root_writable, "/x/urun", dir(kMe, 01777), "/x",
                                  dir(0, 0755), kMe),
            "state root `/x/urun` is writable by other users (mode 1777): run `chmod 700 /x/urun` "
            "or pass --root with a directory of your own");
  EXPECT_EQ(describe_root_problem(RootProblem::parent_owner, "/x/urun", dir(kMe, 0700), "/x",
                                  dir(kOther, 0755), kMe),
            "state root `/x/urun` can be replaced by another user: its parent `/x` belongs to uid "
            "1002; pass --root with a directory of your own");
  EXPECT_EQ(describe_root_problem(RootProblem::parent_writable, "/x/urun", dir(kMe, 0700), "/x",
                                  dir(0, 0777), kMe),
            "state root `/x/urun` can be replaced by other users: its parent `/x` is writable by "
            "them and not sticky (mode 0777): run `chmod +t /x` or pass --root with a directory "
            "of your own");
}

// ---- StateStore applies it -------------------------------------------------

std::string store_error(const std::string& root) {
  try {
    StateStore store(root);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EPERM) << e.what();
    return e.what();
  }
  return "";
}

TEST(StateRootStore, MissingRootIsMadePrivateInAStickyParent) {
  TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 01777), 0);
  EXPECT_EQ(store_error(tmp.path() + "/urun"), "");
  struct stat st {};
  ASSERT_EQ(::stat((tmp.path() + "/urun").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST(StateRootStore, WritableRootIsRefused) {
  TempDir tmp;
  std::string root = tmp.path() + "/urun";
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(root.c_str(), 0770), 0);
  EXPECT_NE(store_error(root).find("run `chmod 700 " + root + "`"), std::string::npos);
  ASSERT_EQ(::chmod(root.c_str(), 0700), 0);
  EXPECT_EQ(store_error(root), "");
}

TEST(StateRootStore, OpenParentIsRefusedAndNamed) {
  TempDir tmp;
  std::string root = tmp.path() + "/urun";
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0777), 0);
  EXPECT_NE(store_error(root).find("its parent `" + tmp.path() + "` is writable"),
            std::string::npos);
  // Also through a symlink to the root: the real parent is judged.
  TempDir other;
  std::string link = other.path() + "/link";
  ASSERT_EQ(::symlink(root.c_str(), link.c_str()), 0);
  EXPECT_NE(store_error(link).find("its parent `" + tmp.path() + "` is writable"),
            std::string::npos);
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0700), 0);
}

TEST(StateRootStore, RootOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  TempDir tmp;
  std::string root = tmp.path() + "/urun";
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  ASSERT_EQ(::chown(root.c_str(), kOther, kOther), 0);
  EXPECT_EQ(store_error(root).rfind("state root `" + root + "` belongs to uid 1002", 0), 0u);
}

}  // namespace
