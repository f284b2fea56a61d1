// What a create may take and what its failure may remove, on fake cgroup trees: which
// directories a create made (make_cgroup_dirs), what undo removes (remove_made_dirs and
// the managers' undo_create), and the managers' claim() refusing a cgroup with processes
// or a frozen one; and how a new init joins a v1 cgroup (the files it writes itself, what the
// parent writes for it).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "cgroups/cgroupfs/cgroupfs_v1.hpp"
#include "cgroups/cgroupfs/cgroupfs_v2.hpp"
#include "common/error.hpp"
#include "errors.hpp"
#include "files.hpp"
#include "temp_dir.hpp"

namespace {

using urun_test::put;
using urun_test::slurp;

using urun_test::TempDir;
namespace cg = urun::cgroups;
namespace sfs = std::filesystem;

// Above the kernel's largest pid_max (2^22): a bug that signals it reaches no process.
constexpr pid_t kFakePid = 5000001;

TEST(CgroupMadeDirs, MakeReturnsWhatItMadeOutermostFirst) {
  TempDir t;
  const std::string root = t.path();
  sfs::create_directories(root + "/a/b");
  EXPECT_EQ(cg::detail::make_cgroup_dirs(root, "/a/b/c/d"),
            (std::vector<std::string>{root + "/a/b/c", root + "/a/b/c/d"}));
  EXPECT_TRUE(sfs::is_directory(root + "/a/b/c/d"));
  // Everything exists now: nothing is this create's.
  EXPECT_TRUE(cg::detail::make_cgroup_dirs(root, "/a/b/c/d").empty());
  EXPECT_TRUE(cg::detail::make_cgroup_dirs(root, "/a").empty());
}

// The leaf goes with the sub-cgroups below it; a parent this create made goes only while
// empty (another create may have made its cgroup there meanwhile); what existed stays.
TEST(CgroupMadeDirs, RemoveTakesTheLeafWhollyAndEmptyParentsOnly) {
  TempDir t;
  const std::string root = t.path();
  sfs::create_directories(root + "/a");
  const auto made = cg::detail::make_cgroup_dirs(root, "/a/b/c/ct");
  ASSERT_EQ(made.size(), 3u);
  put(root + "/a/b/c/ct/sub/cgroup.procs");      // made below the leaf: the container's
  sfs::create_directories(root + "/a/b/other");  // another container's, below our parent
  cg::detail::remove_made_dirs(made, {root + "/a/b/c/ct"});
  EXPECT_FALSE(sfs::exists(root + "/a/b/c"));
  EXPECT_TRUE(sfs::exists(root + "/a/b/other"));
  EXPECT_TRUE(sfs::exists(root + "/a"));
  cg::detail::remove_made_dirs(made, {root + "/a/b/c/ct"});  // what is gone is skipped
}

TEST(CgroupClaimV2, ACgroupWithProcessesIsRefusedAndLeftAsItWas) {
  TempDir t;
  const sfs::path c = sfs::path(t.path()) / "c";
  put(c / "cgroup.procs", std::to_string(kFakePid) + "\n");
  put(c / "cgroup.freeze", "0\n");
  cg::CgroupfsV2 m(t.path(), "/c", "payload");
  m.create();  // makes the delegated sub-cgroup only
  ASSERT_TRUE(sfs::is_directory(c / "payload"));
  EXPECT_EQ(
      urun_test::what_of([&] { m.claim(); }),
      "cgroup `" + c.string() + "` already has processes (1): is another container using it?");
  m.undo_create();  // never signals kFakePid: the cgroup was not claimed
  EXPECT_EQ(slurp(c / "cgroup.procs"), std::to_string(kFakePid) + "\n");
  EXPECT_FALSE(sfs::exists(c / "payload"));
}

TEST(CgroupClaimV2, AFrozenCgroupIsRefusedWhetherItsOwnFreezeOrAnAncestors) {
  TempDir t;
  const sfs::path c = sfs::path(t.path()) / "c";
  put(c / "cgroup.procs");
  put(c / "cgroup.freeze", "1\n");
  put(c / "cgroup.events", "populated 0\nfrozen 1\n");
  cg::CgroupfsV2 m(t.path(), "/c");
  m.create();
  EXPECT_EQ(urun_test::what_of([&] { m.claim(); }),
            "cgroup `" + c.string() + "` is frozen: a container started in it would hang");
  put(c / "cgroup.freeze", "0\n");  // frozen through an ancestor: cgroup.events says so
  EXPECT_NE(urun_test::what_of([&] { m.claim(); }), "");
  put(c / "cgroup.events", "populated 0\nfrozen 0\n");
  EXPECT_EQ(urun_test::what_of([&] { m.claim(); }), "");
  m.undo_create();
  EXPECT_TRUE(sfs::exists(c / "cgroup.procs")) << "the cgroup existed before the create";
}

TEST(CgroupClaimV2, UndoRemovesTheDirectoriesCreateMadeAndNoMore) {
  TempDir t;
  const sfs::path outer = sfs::path(t.path()) / "outer";
  put(outer / "cgroup.procs");
  cg::CgroupfsV2 m(t.path(), "/outer/mid/c1", "payload");
  m.create();
  ASSERT_TRUE(sfs::is_directory(outer / "mid" / "c1" / "payload"));
  m.claim();  // made here: empty, no cgroup.procs to read
  m.undo_create();
  EXPECT_FALSE(sfs::exists(outer / "mid"));
  EXPECT_TRUE(sfs::exists(outer / "cgroup.procs"));
}

// A legacy tree with cpu and cpuacct combined, and optionally the cgroup2 tree of a
// hybrid host.
void make_v1_tree(const sfs::path& root, bool hybrid) {
  for (const char* h : {"memory", "pids", "cpu,cpuacct", "freezer", "systemd"})
    put(root / h / "cgroup.procs");
  if (hybrid) {
    put(root / "unified" / "cgroup.procs");
    put(root / "unified" / "cgroup.controllers");
  }
}

// Per hierarchy: the container's directory that existed in one is not the create's, the
// ones it made in the others are.
TEST(CgroupClaimV1, UndoLeavesWhatExistedInEachHierarchy) {
  TempDir t;
  const sfs::path root = t.path();
  make_v1_tree(root, true);
  put(root / "memory" / "urun" / "c1" / "cgroup.procs");
  put(root / "freezer" / "urun" / "c1" / "freezer.state", "THAWED\n");
  put(root / "pids" / "urun" / "cgroup.procs");
  auto m = cg::CgroupfsV1::same_path(t.path(), "/urun/c1");
  m.create();
  m.claim();
  m.undo_create();
  EXPECT_TRUE(sfs::exists(root / "memory" / "urun" / "c1" / "cgroup.procs"));
  EXPECT_EQ(slurp(root / "freezer" / "urun" / "c1" / "freezer.state"), "THAWED\n");
  EXPECT_FALSE(sfs::exists(root / "pids" / "urun" / "c1"));
  EXPECT_TRUE(sfs::exists(root / "pids" / "urun"));
  for (const char* h : {"cpu,cpuacct", "systemd", "unified"})
    EXPECT_FALSE(sfs::exists(root / h / "urun")) << h;
}

TEST(CgroupClaimV1, ProcessesInAnyHierarchyRefuseTheCgroupAndStay) {
  TempDir t;
  const sfs::path root = t.path();
  make_v1_tree(root, true);
  put(root / "pids" / "c" / "cgroup.procs", std::to_string(kFakePid) + "\n");
  auto m = cg::CgroupfsV1::same_path(t.path(), "/c");
  m.create();  // made in every hierarchy but pids
  EXPECT_EQ(urun_test::what_of([&] { m.claim(); }),
            "cgroup `" + (root / "pids" / "c").string() +
                "` already has processes (1): is another container using it?");
  m.undo_create();  // never signals kFakePid: the cgroup was not claimed
  EXPECT_EQ(slurp(root / "pids" / "c" / "cgroup.procs"), std::to_string(kFakePid) + "\n");
  for (const char* h : {"memory", "cpu,cpuacct", "freezer", "systemd", "unified"})
    EXPECT_FALSE(sfs::exists(root / h / "c")) << h;
}

TEST(CgroupClaimV1, AFrozenFreezerOrCgroup2TreeRefusesTheCgroup) {
  TempDir t;
  const sfs::path root = t.path();
  make_v1_tree(root, true);
  auto m = cg::CgroupfsV1::same_path(t.path(), "/c");
  m.create();
  for (const char* state : {"FROZEN\n", "FREEZING\n"}) {
    put(root / "freezer" / "c" / "freezer.state", state);
    EXPECT_EQ(urun_test::what_of([&] { m.claim(); }),
              "cgroup `" + (root / "freezer" / "c").string() +
                  "` is frozen: a container started in it would hang")
        << state;
  }
  put(root / "freezer" / "c" / "freezer.state", "THAWED\n");
  put(root / "unified" / "c" / "cgroup.freeze", "1\n");  // the hybrid host's cgroup2 tree
  EXPECT_NE(
      urun_test::what_of([&] { m.claim(); }).find("`" + (root / "unified" / "c").string() + "`"),
      std::string::npos);
  put(root / "unified" / "c" / "cgroup.freeze", "0\n");
  EXPECT_EQ(urun_test::what_of([&] { m.claim(); }), "");
  m.undo_create();
  EXPECT_FALSE(sfs::exists(root / "freezer" / "c"));
}

// The init writes "0" to the v1 `tasks` files it was handed; the parent writes its pid only to
// the rest: a hierarchy whose `tasks` did not open, and the cgroup2 tree unless the init was
// cloned into it (dir_fd()).
TEST(CgroupJoinV1, TheParentWritesOnlyWhatTheInitDidNotJoinItself) {
  TempDir t;
  const sfs::path root = t.path();
  make_v1_tree(root, true);
  for (const char* h : {"memory", "pids", "cpu,cpuacct", "freezer", "systemd", "unified"})
    put(root / h / "c" / "cgroup.procs");
  for (const char* h : {"memory", "cpu,cpuacct", "freezer", "systemd"})  // none in pids
    put(root / h / "c" / "tasks");
  auto m = cg::CgroupfsV1::same_path(t.path(), "/c");
  m.create();
  EXPECT_GE(m.dir_fd(), 0);  // the cgroup2 tree's directory
  std::vector<std::string> opened;
  for (const auto& f : m.open_self_join_files()) {
    EXPECT_TRUE(f.fd.valid()) << f.path;
    opened.push_back(f.path);
  }
  std::vector<std::string> want;
  for (const char* h : {"cpu,cpuacct", "freezer", "memory", "systemd"})
    want.push_back((root / h / "c" / "tasks").string());
  EXPECT_EQ(opened, want);

  const std::string pid = std::to_string(kFakePid);
  m.add_process_after_clone(kFakePid, true);
  EXPECT_EQ(slurp(root / "pids" / "c" / "cgroup.procs"), pid);
  for (const char* h : {"memory", "cpu,cpuacct", "freezer", "systemd", "unified"})
    EXPECT_EQ(slurp(root / h / "c" / "cgroup.procs"), "") << h;
  m.add_process_after_clone(kFakePid, false);  // clone3 fell back: the cgroup2 tree too
  EXPECT_EQ(slurp(root / "unified" / "c" / "cgroup.procs"), pid);
  EXPECT_EQ(slurp(root / "memory" / "c" / "cgroup.procs"), "");
  m.undo_create();
  EXPECT_EQ(m.dir_fd(), -1);
}

// As exec does, on a manager rebuilt from the state record (no create()): open_self_join_files
// opens the cgroup2 tree's directory too, for the new process to be cloned into; the parent
// then writes only the hierarchy whose `tasks` did not open.
TEST(CgroupJoinV1, AnExecdProcessIsClonedIntoTheCgroup2TreeOfAnExistingCgroup) {
  TempDir t;
  const sfs::path root = t.path();
  make_v1_tree(root, true);
  for (const char* h : {"memory", "pids", "cpu,cpuacct", "freezer", "systemd", "unified"}) {
    sfs::create_directories(root / h / "c");
    put(root / h / "c" / "cgroup.procs");
  }
  for (const char* h : {"memory", "cpu,cpuacct", "freezer", "systemd"})
    put(root / h / "c" / "tasks");
  auto m = cg::CgroupfsV1::same_path(t.path(), "/c");
  EXPECT_EQ(m.dir_fd(), -1);
  EXPECT_EQ(m.open_self_join_files().size(), 4u);
  EXPECT_GE(m.dir_fd(), 0);
  m.add_process_after_clone(kFakePid, true);
  EXPECT_EQ(slurp(root / "pids" / "c" / "cgroup.procs"), std::to_string(kFakePid));
  for (const char* h : {"memory", "cpu,cpuacct", "freezer", "systemd", "unified"})
    EXPECT_EQ(slurp(root / h / "c" / "cgroup.procs"), "") << h;
}

}  // namespace
