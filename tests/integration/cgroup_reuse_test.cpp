// A create that meets a cgroup it did not make, on this host's real v1 (hybrid) hierarchies:
// a cgroup another container runs in is refused and left running, a frozen one is an error
// rather than a hang, and a failed create removes only the directories it made.
//
// Each test works below its own directory BASE (/urun-it-reuse-<pid>) in every hierarchy,
// delegated to the test user rootless (v1_base.hpp).
// The cgroup v2 half of these tests is in cgroup_v2_test.cpp.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <thread>

#include "v1_base.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class CgroupReuse : public V1Base {
 protected:
  void SetUp() override {
    V1Base::SetUp();
    if (IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(set_up_base("reuse"));
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

  static constexpr const char* h_unified = kUnified;
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
    GTEST_SKIP() << "no cgroup2 tree with cgroup.freeze at " << kCgroupRoot << "/unified";
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
