// The clean-up calls a Kubernetes node's containerd shim makes, as root and rootless:
//   - `kill --all ID KILL` after every exit of the init, to reap what it left in the cgroup
//     (processes that shared its pid namespace outlive it): signalled, and exit 0;
//   - `delete ID` (no --force) of a container that was created and never started;
//   - `delete --force ID` of a paused (frozen) container, which must return promptly, and
//     `kill ID KILL` of one, which must stop it.
//
// On this host's real v1 (hybrid) hierarchies, below a test-owned cgroup delegated to the test
// user rootless (v1_base.hpp).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "v1_base.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class ShimCleanup : public V1Base {
 protected:
  void SetUp() override {
    V1Base::SetUp();
    if (IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(set_up_base("shim"));
    if (IsSkipped()) return;
    if (!has("freezer")) GTEST_SKIP() << "no v1 freezer hierarchy under " << kCgroupRoot;
  }

  // A bundle whose container goes to BASE/ct, running `script`; without a pid namespace of its
  // own when shared_pids (rootless, /proc is then the host's, bound: a user namespace may not
  // mount a procfs of a pid namespace it does not own).
  Bundle bundle(const std::string& script, bool shared_pids) {
    Bundle b = make_bundle({.name = shared_pids ? "shared-pids" : "own-pids"});
    b.config["linux"]["cgroupsPath"] = base_ + "/ct";
    b.config["hooks"]["poststop"] = Json::array(
        {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > \"$1\"", "sh", b.path("poststop")}}}});
    if (shared_pids) {
      auto& nss = b.config["linux"]["namespaces"];
      for (auto it = nss.begin(); it != nss.end(); ++it)
        if ((*it).value("type", "") == "pid") {
          nss.erase(it);
          break;
        }
      if (rootless())
        for (auto& m : b.config["mounts"])
          if (m.value("destination", "") == "/proc")
            m = {{"destination", "/proc"},
                 {"type", "bind"},
                 {"source", "/proc"},
                 {"options", {"rbind", "nosuid", "noexec", "nodev"}}};
    }
    b.sh(script);
    b.save();
    return b;
  }
  // The container's processes as the pids hierarchy (or the first one) lists them.
  std::vector<pid_t> ct_procs() const {
    return procs_of(dir(has("pids") ? "pids" : hierarchies_.front(), "/ct"));
  }
  std::vector<pid_t> wait_ct_procs(size_t n, std::chrono::milliseconds timeout = 5s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto p = ct_procs();
      if (p.size() == n || std::chrono::steady_clock::now() > deadline) return p;
      std::this_thread::sleep_for(10ms);
    }
  }
  // Nothing of the container is left: no state, no process, BASE/ct in no hierarchy, and the
  // poststop hook ran with the state "stopped".
  void expect_container_gone(const Bundle& b, const std::string& id,
                             const std::vector<pid_t>& pids) {
    EXPECT_NE(rt().run({"state", id}).exit_code, 0) << "the container is still known";
    EXPECT_TRUE(state_entries().empty());
    for (pid_t pid : pids) EXPECT_FALSE(pid_alive(pid)) << "process " << pid << " survived";
    for (const auto& h : hierarchies_) EXPECT_FALSE(path_exists(dir(h, "/ct"))) << h;
    EXPECT_TRUE(wait_no_leftovers().empty());
    Json st = Json::parse(read_file(b.path("poststop")), nullptr, false);
    EXPECT_EQ(st.is_object() ? st.value("status", "") : "", "stopped")
        << "the poststop hook did not run: " << read_file(b.path("poststop"));
  }
};

// The init exits and leaves a daemonised child in the cgroup (no pid namespace of its own, so
// the kernel does not kill it with the init). containerd's shim then calls `kill --all ID KILL`:
// it must reach that child and exit 0. A plain `kill` still says the container is not running.
TEST_P(ShimCleanup, KillAllAfterTheInitExitedEmptiesTheCgroup) {
  Bundle b = bundle("setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo started", true);
  Result c = urun({"create", "--bundle", b.dir, "leftover"});
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  const pid_t init = rt().state("leftover").value("pid", 0);
  ASSERT_GT(init, 0);
  ASSERT_RUN_OK(urun({"start", "leftover"}));
  ASSERT_EQ(rt().wait_status("leftover", "stopped"), "stopped");
  const std::vector<pid_t> left = wait_ct_procs(1);
  ASSERT_EQ(left.size(), 1u) << "the daemonised child should be left in the cgroup";
  ASSERT_NE(left[0], init);
  ASSERT_TRUE(pid_alive(left[0]));

  Result plain = urun({"kill", "leftover", "KILL"});
  EXPECT_NE(plain.exit_code, 0) << plain.describe();
  EXPECT_NE(plain.err.find("container not running"), std::string::npos) << plain.describe();
  EXPECT_TRUE(pid_alive(left[0])) << "a plain kill of a stopped container signalled something";

  Result all = urun({"kill", "--all", "leftover", "KILL"});
  EXPECT_EQ(all.exit_code, 0) << all.describe();
  EXPECT_TRUE(all.err.empty()) << all.describe();
  EXPECT_TRUE(wait_ct_procs(0).empty()) << "kill --all left processes in the cgroup";
  for (int i = 0; i < 300 && pid_alive(left[0]); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(pid_alive(left[0])) << "the daemonised child survived kill --all";
  EXPECT_EQ(rt().status("leftover"), "stopped");
  // Again, with nothing left: still exit 0 (the shim calls it after every exit).
  EXPECT_RUN_OK(urun({"kill", "--all", "leftover", "KILL"}));

  ASSERT_RUN_OK(urun({"delete", "leftover"}));
  expect_container_gone(b, "leftover", {init, left[0]});
}

// containerd deletes a task that was never started with a plain `delete`: the created
// container goes (its waiting init, its cgroup, its state) and its poststop hooks run.
TEST_P(ShimCleanup, DeleteOfACreatedContainerRemovesIt) {
  for (bool shared_pids : {false, true}) {
    SCOPED_TRACE(shared_pids ? "shared pid namespace" : "own pid namespace");
    Bundle b = bundle("echo should-not-run", shared_pids);
    Result c = urun({"create", "--bundle", b.dir, "never-started"});
    ASSERT_EQ(c.exit_code, 0) << c.describe();
    const pid_t init = rt().state("never-started").value("pid", 0);
    ASSERT_GT(init, 0);
    ASSERT_EQ(rt().status("never-started"), "created");
    ASSERT_EQ(ct_procs(), std::vector<pid_t>{init});

    Result d = urun({"delete", "never-started"});
    EXPECT_EQ(d.exit_code, 0) << d.describe();
    EXPECT_TRUE(d.err.empty()) << d.describe();
    expect_container_gone(b, "never-started", {init});
    EXPECT_EQ(read_file(c.out_path).find("should-not-run"), std::string::npos);
    ::unlink(b.path("poststop").c_str());
  }
}

// `delete --force` of a paused container: the v1 freezer holds SIGKILL until the processes
// thaw, so delete must thaw them, and it returns promptly with everything gone.
TEST_P(ShimCleanup, DeleteForceOfAPausedContainerIsPrompt) {
  for (bool shared_pids : {false, true}) {
    SCOPED_TRACE(shared_pids ? "shared pid namespace" : "own pid namespace");
    Bundle b = bundle("sleep 1000 & exec sleep 1001", shared_pids);
    ASSERT_RUN_OK(urun({"create", "--bundle", b.dir, "paused"}));
    const pid_t init = rt().state("paused").value("pid", 0);
    ASSERT_GT(init, 0);
    ASSERT_RUN_OK(urun({"start", "paused"}));
    const std::vector<pid_t> both = wait_ct_procs(2);
    ASSERT_EQ(both.size(), 2u);
    ASSERT_RUN_OK(urun({"pause", "paused"}));
    ASSERT_EQ(rt().status("paused"), "paused");
    ASSERT_EQ(trim(read_file(dir("freezer", "/ct/freezer.state"))), "FROZEN");

    const auto t0 = std::chrono::steady_clock::now();
    Result d = urun({"delete", "--force", "paused"}, RunOptions{.timeout = 10s});
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(d.exit_code, 0) << d.describe();
    EXPECT_TRUE(d.err.empty()) << d.describe();
    EXPECT_LT(took, 2s) << "delete --force of a paused container took "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms";
    expect_container_gone(b, "paused", both);
    ::unlink(b.path("poststop").c_str());
  }
}

// `kill ID KILL` of a paused container (what a shim's task kill does before it deletes): the
// v1 freezer would hold the SIGKILL until a resume, so the container is thawed after the
// signal, as runc does, and stops.
TEST_P(ShimCleanup, KillOfAPausedContainerStopsIt) {
  Bundle b = bundle("exec sleep 1000", false);
  ASSERT_RUN_OK(urun({"create", "--bundle", b.dir, "paused-kill"}));
  const pid_t init = rt().state("paused-kill").value("pid", 0);
  ASSERT_GT(init, 0);
  ASSERT_RUN_OK(urun({"start", "paused-kill"}));
  ASSERT_RUN_OK(urun({"pause", "paused-kill"}));
  ASSERT_EQ(rt().status("paused-kill"), "paused");
  ASSERT_RUN_OK(urun({"kill", "paused-kill", "KILL"}));
  EXPECT_EQ(rt().wait_status("paused-kill", "stopped", 2s), "stopped");
  EXPECT_FALSE(pid_alive(init));
  ASSERT_RUN_OK(urun({"delete", "paused-kill"}));
  expect_container_gone(b, "paused-kill", {init});
}

URUN_IT_INSTANTIATE(ShimCleanup);

}  // namespace
}  // namespace urun_it
