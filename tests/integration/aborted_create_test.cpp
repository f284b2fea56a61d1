// A runtime killed in the middle of `create`: the state record is written
// before the cgroup exists and again once the init is known, so `delete` finds and removes what
// the dead create left (processes, the cgroup in every hierarchy, the state dir). Until then
// `state` and `list` report the container as stopped, and `start` refuses it.
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class AbortedCreate : public IntegrationTest {
 protected:
  // Unique per test process, so that clean-up never touches another test's cgroup.
  std::string unique_id(const std::string& stem) const {
    return stem + "-" + std::to_string(::getpid());
  }

  // Whatever a failing test left: the processes in its cgroups, then the directories.
  void TearDown() override {
    if (!id_.empty()) {
      host_sh("for d in $(find /sys/fs/cgroup -maxdepth 4 -depth -type d -name '" + id_ +
              "*' 2>/dev/null); do for p in $(cat $d/cgroup.procs 2>/dev/null); do "
              "kill -9 $p 2>/dev/null; done; sleep 0.1; rmdir $d 2>/dev/null; done; true");
    }
    IntegrationTest::TearDown();
  }

  std::string id_;

  // Starts `create ID` with `stage` hook blocking (it touches `started` first, then sleeps),
  // waits for the hook and SIGKILLs the runtime process alone (not its process group).
  void create_and_kill(Bundle& b, const std::string& id, const std::string& stage,
                       const std::string& started) {
    Json hook = {{"path", "/bin/sh"},
                 {"args", {"sh", "-c", "echo $$ > " + started + "; exec sleep 1000"}},
                 {"env", {token(), "PATH=/usr/bin:/bin"}}};
    b.config["hooks"][stage] = Json::array({hook});
    b.sh("sleep 1000");
    b.save();
    Proc p = rt().spawn({"create", "--bundle", b.dir, id});
    wait_file_contains(started, "\n", 20s);
    ASSERT_EQ(::kill(p.pid(), SIGKILL), 0);
    Result killed = p.wait(10s);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.describe();
  }

  // Cgroup directories named after the container, in every hierarchy (the v1 ones and the
  // unified tree of this hybrid host).
  std::string cgroups_named(const std::string& id) {
    return host_sh("find /sys/fs/cgroup -maxdepth 4 -type d -name '" + id +
                   "*' 2>/dev/null || true");
  }

  void expect_reported_stopped(const std::string& id) {
    Json st = rt().state(id);
    EXPECT_EQ(st.value("status", ""), "stopped") << st.dump();
    EXPECT_EQ(st.value("pid", -1), 0) << st.dump();
    Result list = rt().run({"list"});
    EXPECT_EQ(list.exit_code, 0) << list.describe();
    EXPECT_NE(list.out.find("stopped"), std::string::npos) << list.describe();
    Result start = rt().run({"start", id});
    EXPECT_NE(start.exit_code, 0) << "an aborted create must not start\n" << start.describe();
  }
};

// Killed while a createContainer hook runs inside the container: the init and the hook (in the
// container's cgroup and pid namespace) outlive the runtime; `delete --force` kills them.
TEST_P(AbortedCreate, DeleteForceRemovesWhatAKilledCreateLeft) {
  if (is_runc()) GTEST_SKIP() << "runc keeps no record of a create killed this early";
  const std::string id = id_ = unique_id("aborted-cc");
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["pids"] = {{"limit", 64}};
  const std::string started = make_host_dir("hook") + "/started";
  ASSERT_NO_FATAL_FAILURE(create_and_kill(b, id, "createContainer", started));
  EXPECT_FALSE(leftover_processes().empty()) << "the hook should still be running";
  if (!rootless()) {
    EXPECT_NE(cgroups_named(id), "") << "the cgroup should still exist";
  }
  expect_reported_stopped(id);

  Result del = rt().run({"delete", "--force", id});
  EXPECT_EQ(del.exit_code, 0) << del.describe();
  EXPECT_TRUE(wait_no_leftovers().empty()) << "processes of the container survived";
  EXPECT_EQ(cgroups_named(id), "") << "cgroup left behind";
  EXPECT_TRUE(state_entries().empty());
}

// Killed while a createRuntime hook runs in the runtime's namespace: the init sees its parent's
// end of the sync socket close and exits; the cgroup and the state dir stay until `delete`
// (a stopped container needs no --force).
TEST_P(AbortedCreate, DeleteRemovesTheCgroupOfAKilledCreate) {
  if (is_runc()) GTEST_SKIP() << "runc keeps no record of a create killed this early";
  const std::string id = id_ = unique_id("aborted-cr");
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["pids"] = {{"limit", 64}};
  const std::string started = make_host_dir("hook") + "/started";
  ASSERT_NO_FATAL_FAILURE(create_and_kill(b, id, "createRuntime", started));
  // The hook belongs to the runtime, not to the container: end it here.
  pid_t hook = std::stoi(trim(read_file(started)));
  ::kill(hook, SIGKILL);
  if (!rootless()) {
    EXPECT_NE(cgroups_named(id), "") << "the cgroup should still exist";
  }
  expect_reported_stopped(id);

  Result del = rt().run({"delete", id});
  EXPECT_EQ(del.exit_code, 0) << del.describe();
  EXPECT_TRUE(wait_no_leftovers().empty()) << "processes of the container survived";
  EXPECT_EQ(cgroups_named(id), "") << "cgroup left behind";
  EXPECT_TRUE(state_entries().empty());
}

URUN_IT_INSTANTIATE(AbortedCreate);

}  // namespace
}  // namespace urun_it
