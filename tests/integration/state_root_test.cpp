// The state root must be the caller's: a root that another user owns or can
// write, or can replace through its parent, is refused with one line naming the path and the fix,
// before anything is read from it or created in it. A sticky, world-writable parent (a shared
// XDG_RUNTIME_DIR, /tmp) is fine once urun/ inside is ours: the sticky bit keeps others from
// replacing it. Root in a user namespace (rootless Podman) uses $XDG_RUNTIME_DIR/urun owned by
// the mapped user.
#include <sys/stat.h>
#include <unistd.h>

#include "harness.hpp"

namespace urun_it {
namespace {

constexpr uid_t kOtherUid = 4242;  // another user: no passwd entry needed

class StateRoot : public IntegrationTest {
 protected:
  // A directory made as root with exactly this owner and mode.
  std::string host_dir(const std::string& rel, uid_t uid, mode_t mode) {
    std::string d = dir() + "/" + rel;
    if (::mkdir(d.c_str(), mode) != 0) throw std::runtime_error("mkdir " + d);
    if (::chown(d.c_str(), uid, uid) != 0 || ::chmod(d.c_str(), mode) != 0)
      throw std::runtime_error("chown/chmod " + d);
    return d;
  }

  // The runtime with `args` in an environment whose XDG_RUNTIME_DIR is xdg and no --root.
  Result run_with_xdg(const std::string& xdg, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "XDG_RUNTIME_DIR=" + xdg, world().runtime()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_as(identity(), argv, dir() + "/io", RunOptions{.cwd = dir()});
  }

  Result run_with_root(const std::string& root, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {world().runtime(), "--root", root};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_as(identity(), argv, dir() + "/io", RunOptions{.cwd = dir()});
  }

  // One line on stderr, naming the path and how to fix it; a non-zero exit.
  void expect_refused(const Result& r, const std::string& path, const std::string& fix) {
    EXPECT_NE(r.exit_code, 0) << r.describe();
    auto lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << r.describe();
    if (is_runc()) return;
    EXPECT_NE(lines[0].find("`" + path + "`"), std::string::npos) << r.describe();
    EXPECT_NE(lines[0].find(fix), std::string::npos) << "the fix `" << fix << "` is missing\n"
                                                     << r.describe();
  }

  // `list` and a `create` are both refused, and the create leaves nothing in the root.
  void expect_root_refused(const std::string& root, const std::string& fix) {
    expect_refused(run_with_root(root, {"list"}), root, fix);
    Bundle b = make_bundle();
    Result c = run_with_root(root, {"create", "--bundle", b.dir, "refused"});
    expect_refused(c, root, fix);
    EXPECT_FALSE(path_exists(root + "/refused")) << "create went ahead in a refused root";
  }
};

// A world-writable (1777) directory of the caller's as --root: anybody could plant a container
// there (the sticky bit does not stop new entries).
TEST_P(StateRoot, WorldWritableRootIsRefused) {
  std::string root = host_dir("shared", identity().uid, 01777);
  expect_root_refused(root, "chmod");
}

// Group-writable and owned by the caller: the group's members could plant state.
TEST_P(StateRoot, GroupWritableRootIsRefused) {
  std::string root = host_dir("group", identity().uid, 0770);
  expect_root_refused(root, "chmod");
}

// A root owned by another user, even a private one.
TEST_P(StateRoot, RootOwnedByAnotherUserIsRefused) {
  std::string root = host_dir("others", kOtherUid, 0700);
  expect_root_refused(root, "--root");
}

// A shared XDG_RUNTIME_DIR (1777, like /tmp) where another user pre-created urun/ 0777.
TEST_P(StateRoot, UrunDirPrecreatedByAnotherUserIsRefused) {
  std::string xdg = host_dir("xdg", 0, 01777);
  std::string root = host_dir("xdg/urun", kOtherUid, 0777);
  if (rootless()) {
    // The host's root ignores XDG_RUNTIME_DIR (it uses /run/urun): only the user meets it.
    expect_refused(run_with_xdg(xdg, {"list"}), root, "--root");
  }
  expect_root_refused(root, "--root");
}

// The same shared XDG_RUNTIME_DIR without urun/: it is made 0700 and ours, and used. The sticky
// bit keeps other users from replacing it.
TEST_P(StateRoot, StickySharedParentIsFineOnceUrunIsOurs) {
  std::string xdg = host_dir("xdg", 0, 01777);
  Result r = rootless() ? run_with_xdg(xdg, {"list"}) : run_with_root(xdg + "/urun", {"list"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
  struct stat st {};
  ASSERT_EQ(::stat((xdg + "/urun").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, identity().uid);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // And a container runs from it.
  Bundle b = make_bundle();
  b.sh("echo hello");
  b.save();
  Result run = run_with_root(xdg + "/urun", {"run", "--bundle", b.dir, "sticky-ok"});
  EXPECT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(trim(run.out), "hello") << run.describe();
  EXPECT_FALSE(path_exists(xdg + "/urun/sticky-ok"));
}

// A parent that others can write without the sticky bit: they could rename urun/ away and put
// their own in its place.
TEST_P(StateRoot, ReplaceableThroughItsParentIsRefused) {
  std::string parent = host_dir("open", 0, 0777);
  std::string root = host_dir("open/urun", identity().uid, 0700);
  expect_root_refused(root, "--root");
}

// A parent owned by another user: its owner can always replace the entries.
TEST_P(StateRoot, ParentOwnedByAnotherUserIsRefused) {
  std::string parent = host_dir("theirs", kOtherUid, 0755);
  std::string root = host_dir("theirs/urun", identity().uid, 0700);
  expect_root_refused(root, "--root");
}

// Rootless Podman runs the runtime as root in a user namespace mapping the user to 0: the state
// lives in $XDG_RUNTIME_DIR/urun, which the mapped user owns.
TEST_P(StateRoot, RootInAUserNamespaceUsesTheMappedUsersXdgDir) {
  std::string xdg = host_dir("xdg-own", identity().uid, 0700);
  std::vector<std::string> argv = {
      "/usr/bin/unshare", "--user", "--map-root-user", "/usr/bin/env", "XDG_RUNTIME_DIR=" + xdg,
      world().runtime(),  "list"};
  Result r = run_as(identity(), argv, dir() + "/io", RunOptions{.cwd = dir()});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
  struct stat st {};
  ASSERT_EQ(::stat((xdg + "/urun").c_str(), &st), 0) << "the state root should be under XDG";
  EXPECT_EQ(st.st_uid, identity().uid);
}

URUN_IT_INSTANTIATE(StateRoot);

}  // namespace
}  // namespace urun_it
