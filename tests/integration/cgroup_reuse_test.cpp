// A create that meets a cgroup it did not make, on this host's real v1 (hybrid) hierarchies:
// a cgroup another container runs in is refused and left running, a frozen one is an error
// rather than a hang, and a failed create removes only the directories it made.
//
// Each test works below its own directory BASE (/urun-it-reuse-<pid>) in every hierarchy,
// made by the test and removed with everything in it at the end. Rootless, BASE is
// delegated to the test user (the directory and its cgroup.procs are the user's, as a
// systemd user session's are) and the runtime runs in BASE/runtime of the cgroup2 tree,
// where moving a process needs write access to the common ancestor's cgroup.procs.
// The cgroup v2 half of these tests is in cgroup_v2_test.cpp.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRoot = "/sys/fs/cgroup";

// The hierarchies mounted under /sys/fs/cgroup (symlinks such as cpu -> cpu,cpuacct
// skipped), the cgroup2 tree of a hybrid host ("unified") included.
std::vector<std::string> hierarchies() {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(kRoot)) {
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
          path_exists(std::string(kRoot) + "/" + e->d_name + "/cgroup.procs"))
        out.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<pid_t> procs_of(const std::string& dir) {
  std::vector<pid_t> out;
  if (!path_exists(dir + "/cgroup.procs")) return out;
  for (const auto& l : split_lines(read_file(dir + "/cgroup.procs"))) out.push_back(std::stoi(l));
  std::sort(out.begin(), out.end());
  return out;
}

class CgroupReuse : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (IsSkipped()) return;
    if (path_exists(std::string(kRoot) + "/cgroup.controllers"))
      GTEST_SKIP() << "a unified host: cgroup_v2_test.cpp covers it";
    hierarchies_ = hierarchies();
    if (hierarchies_.empty()) GTEST_SKIP() << "no cgroup hierarchy under " << kRoot;
    base_ = "/urun-it-reuse-" + std::to_string(::getpid());
    for (const auto& h : hierarchies_) make_cgroup(h, base_);
    if (rootless() && has("unified")) {
      // Made by root and not the user's: the runtime is moved in as root (join_cgroups).
      ASSERT_EQ(::mkdir(dir(h_unified, "/runtime").c_str(), 0755), 0);
    }
  }
  void TearDown() override {
    IntegrationTest::TearDown();
    if (base_.empty()) return;
    std::vector<std::string> dirs;
    for (const auto& h : hierarchies_) dirs.push_back(std::string(kRoot) + "/" + h + base_);
    remove_cgroup_trees(dirs);
  }

  bool has(const std::string& h) const {
    return std::find(hierarchies_.begin(), hierarchies_.end(), h) != hierarchies_.end();
  }
  // The directory of BASE + sub in hierarchy h.
  std::string dir(const std::string& h, const std::string& sub = "") const {
    return std::string(kRoot) + "/" + h + base_ + sub;
  }
  // Makes kRoot/h/path as the test would find it on a host: with the parent's cpus and
  // memory nodes (a cpuset cgroup takes no task without), and the user's when rootless.
  void make_cgroup(const std::string& h, const std::string& path) {
    const std::string d = std::string(kRoot) + "/" + h + path;
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
    const std::string parent = d.substr(0, d.rfind('/'));
    for (const char* f : {"cpuset.cpus", "cpuset.mems"})
      if (path_exists(d + "/" + f)) write_file(d + "/" + f, read_file(parent + "/" + f));
    if (!rootless()) return;
    for (const char* f :
         {"", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control", "/tasks"}) {
      const std::string p = d + f;
      if (!path_exists(p)) continue;
      ASSERT_EQ(::chown(p.c_str(), identity().uid, identity().gid), 0) << p;
    }
  }
  // A runtime call; rootless from inside the cgroup delegated to the user.
  Result urun(const std::vector<std::string>& args, RunOptions opts = {}) {
    if (rootless() && has(h_unified)) opts.join_cgroups = {dir(h_unified, "/runtime/cgroup.procs")};
    return rt().run(args, opts);
  }
  Bundle bundle(const std::string& script, const std::string& sub = "/ct") {
    Bundle b = make_bundle();
    b.config["linux"]["cgroupsPath"] = base_ + sub;
    b.sh(script);
    b.save();
    return b;
  }
  // Hierarchy -> processes of BASE/ct in it.
  std::map<std::string, std::vector<pid_t>> ct_procs() const {
    std::map<std::string, std::vector<pid_t>> out;
    for (const auto& h : hierarchies_) out[h] = procs_of(dir(h, "/ct"));
    return out;
  }
  // Runs the bundle (which must fail on the frozen cgroup `frozen`) and checks the error
  // came in bounded time and took nothing but what the run made.
  void expect_frozen_refused(const Bundle& b, const std::string& frozen_dir,
                             const std::string& state_file, const std::string& frozen_value) {
    const std::string before = trim(read_file(frozen_dir + "/" + state_file));
    ASSERT_EQ(before, frozen_value);
    Result r = urun({"run", "--bundle", b.dir, "frozen"}, RunOptions{.timeout = 8s});
    ASSERT_NE(r.exit_code, -1) << "run hung on a frozen cgroup\n" << r.describe();
    expect_clean_failure(r, "frozen");
    EXPECT_TRUE(path_exists(frozen_dir)) << "the frozen cgroup was removed";
    EXPECT_EQ(trim(read_file(frozen_dir + "/" + state_file)), before) << "it was thawed";
    EXPECT_TRUE(procs_of(frozen_dir).empty());
  }
  // The test's own clean-up of a cgroup it froze: thawed, then removed.
  static void thaw_and_remove(const std::string& dir, const std::string& state_file,
                              const std::string& thawed) {
    write_file(dir + "/" + state_file, thawed);
    EXPECT_EQ(::rmdir(dir.c_str()), 0) << dir << ": " << std::strerror(errno);
  }

  static constexpr const char* h_unified = "unified";
  std::vector<std::string> hierarchies_;
  std::string base_;
};

// The second container is refused with one line and leaves nothing; the first keeps its
// processes and its cgroup in every hierarchy, whether the second is a create or a run.
TEST_P(CgroupReuse, SecondContainerOnTheSameCgroupIsRefusedAndTheFirstRunsOn) {
  Bundle b = bundle("sleep 1000 & exec sleep 1001");
  ASSERT_RUN_OK(urun({"create", "--bundle", b.dir, "first"}));
  ASSERT_RUN_OK(urun({"start", "first"}));
  std::map<std::string, std::vector<pid_t>> before;
  for (int i = 0; i < 300; ++i, std::this_thread::sleep_for(10ms))
    if ((before = ct_procs()).begin()->second.size() == 2) break;
  for (const auto& [h, pids] : before) ASSERT_EQ(pids.size(), 2u) << h;

  for (const char* command : {"create", "run"}) {
    SCOPED_TRACE(command);
    Result r = urun({command, "--bundle", b.dir, "second"});
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.exit_code, -1) << r.describe();
    ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
    if (!is_runc()) {
      EXPECT_NE(r.err.find("second"), std::string::npos) << r.describe();
      EXPECT_NE(r.err.find(base_ + "/ct"), std::string::npos) << r.describe();
      EXPECT_NE(r.err.find("already has processes"), std::string::npos) << r.describe();
    }
    EXPECT_EQ(state_entries(), std::vector<std::string>{"first"});
    EXPECT_EQ(ct_procs(), before) << "the first container's cgroup changed";
    for (pid_t pid : before.begin()->second)
      EXPECT_TRUE(pid_alive(pid)) << "the first container's process " << pid << " died";
  }
  EXPECT_EQ(rt().status("first"), "running");
  ASSERT_RUN_OK(urun({"delete", "--force", "first"}));
  for (const auto& h : hierarchies_) EXPECT_FALSE(path_exists(dir(h, "/ct"))) << h;
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// A frozen freezer cgroup, made before: run fails at once and leaves it frozen.
TEST_P(CgroupReuse, FrozenFreezerCgroupIsAnErrorNotAHang) {
  if (!has("freezer")) GTEST_SKIP() << "no v1 freezer hierarchy";
  make_cgroup("freezer", base_ + "/ct");
  write_file(dir("freezer", "/ct/freezer.state"), "FROZEN");
  Bundle b = bundle("echo ran");
  expect_frozen_refused(b, dir("freezer", "/ct"), "freezer.state", "FROZEN");
  for (const auto& h : hierarchies_) {
    if (h == "freezer") continue;
    EXPECT_FALSE(path_exists(dir(h, "/ct"))) << "left behind in " << h;
  }
  thaw_and_remove(dir("freezer", "/ct"), "freezer.state", "THAWED");
}

// The new cgroup's parent is frozen: the new one is too, from its first moment.
TEST_P(CgroupReuse, FrozenParentFreezerCgroupIsAnErrorNotAHang) {
  if (!has("freezer")) GTEST_SKIP() << "no v1 freezer hierarchy";
  make_cgroup("freezer", base_ + "/p");
  write_file(dir("freezer", "/p/freezer.state"), "FROZEN");
  Bundle b = bundle("echo ran", "/p/ct");
  expect_frozen_refused(b, dir("freezer", "/p"), "freezer.state", "FROZEN");
  for (const auto& h : hierarchies_)
    EXPECT_FALSE(path_exists(dir(h, "/p/ct"))) << "left behind in " << h;
  thaw_and_remove(dir("freezer", "/p"), "freezer.state", "THAWED");
}

// The cgroup2 tree of a hybrid host freezes too (cgroup.freeze), with the v1 freezer thawed.
TEST_P(CgroupReuse, FrozenUnifiedCgroupOfAHybridHostIsAnErrorNotAHang) {
  if (!has(h_unified) || !path_exists(dir(h_unified) + "/cgroup.freeze"))
    GTEST_SKIP() << "no cgroup2 tree with cgroup.freeze at " << kRoot << "/unified";
  make_cgroup(h_unified, base_ + "/ct");
  write_file(dir(h_unified, "/ct/cgroup.freeze"), "1");
  Bundle b = bundle("echo ran");
  expect_frozen_refused(b, dir(h_unified, "/ct"), "cgroup.freeze", "1");
  for (const auto& h : hierarchies_) {
    if (h == h_unified) continue;
    EXPECT_FALSE(path_exists(dir(h, "/ct"))) << "left behind in " << h;
  }
  thaw_and_remove(dir(h_unified, "/ct"), "cgroup.freeze", "0");
}

// A create that fails after its init joined the cgroup (a createRuntime hook fails) removes
// what it made and nothing else, per hierarchy: BASE/mid/ct existed in some, BASE/mid
// alone in another, only BASE in the rest.
TEST_P(CgroupReuse, PreexistingEmptyCgroupsSurviveAFailedCreate) {
  if (is_runc()) GTEST_SKIP() << "runc removes the container's cgroup whoever made it";
  // The interesting hierarchies first: memory, the cgroup2 tree, pids.
  std::vector<std::string> order;
  for (const char* h : {"memory", h_unified, "pids"})
    if (has(h)) order.push_back(h);
  for (const auto& h : hierarchies_)
    if (std::find(order.begin(), order.end(), h) == order.end()) order.push_back(h);
  ASSERT_GE(order.size(), 3u);
  const std::vector<std::string> with_leaf = {order[0], order[1]};
  const std::string with_mid = order[2];
  for (const auto& h : with_leaf) {
    make_cgroup(h, base_ + "/mid");
    make_cgroup(h, base_ + "/mid/ct");
  }
  make_cgroup(with_mid, base_ + "/mid");
  Bundle b = bundle("echo ran", "/mid/ct");
  b.config["hooks"]["createRuntime"] =
      Json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}, {"env", {token()}}}});
  b.save();
  for (const char* command : {"create", "run"}) {
    SCOPED_TRACE(command);
    Result r = urun({command, "--bundle", b.dir, "failing"});
    expect_clean_failure(r, "createRuntime");
    for (const auto& h : hierarchies_) {
      SCOPED_TRACE(h);
      const bool leaf = std::find(with_leaf.begin(), with_leaf.end(), h) != with_leaf.end();
      EXPECT_EQ(path_exists(dir(h, "/mid/ct")), leaf);
      EXPECT_EQ(path_exists(dir(h, "/mid")), leaf || h == with_mid);
      EXPECT_TRUE(path_exists(dir(h)));
      if (leaf) {
        EXPECT_TRUE(procs_of(dir(h, "/mid/ct")).empty());
      }
    }
  }
}

URUN_IT_INSTANTIATE(CgroupReuse);

}  // namespace
}  // namespace urun_it
