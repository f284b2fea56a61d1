// exec never hangs: against a concurrent pause it completes or is refused, a process frozen
// before it could exec makes exec give up, and SIGTERM or SIGINT to an exec that is waiting for
// its process ends it and the process.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class ExecPause : public IntegrationTest {
 protected:
  void start_sleeper(const std::string& id) {
    Bundle b = make_bundle({.name = id});
    b.set_args({"sleep", "1000"});
    b.save();
    ASSERT_RUN_OK(create(b, id));
    ASSERT_RUN_OK(rt().run({"start", id}));
  }
};

// Host pids whose parent is `parent`.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& line : split_lines(read_file("/proc/" + std::to_string(parent) + "/task/" +
                                                std::to_string(parent) + "/children"))) {
    std::istringstream words(line);
    for (pid_t pid; words >> pid;) out.push_back(pid);
  }
  return out;
}

TEST_P(ExecPause, ExecRacingPauseCompletesOrIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start_sleeper("c1"));
  Result probe = rt().run({"pause", "c1"});
  const bool can_pause = probe.exit_code == 0;
  if (can_pause) {
    ASSERT_RUN_OK(rt().run({"resume", "c1"}));
  } else {
    ASSERT_TRUE(rootless()) << probe.describe();
    // Still worth racing: pause takes the container's lock before it finds no cgroup.
    std::cout << "pause cannot freeze a rootless container on this host (no cgroup is delegated "
                 "to the test user): only checking that exec completes against pause attempts ("
              << trim(probe.err) << ")\n";
  }

  // The exec'd process before its execve still runs the runtime's binary.
  const std::string runtime_comm = world().runtime().substr(world().runtime().rfind('/') + 1);
  std::mt19937 random(12345);
  int completed = 0, refused = 0;
  // Within ctest's 90 s per test: a loaded machine makes fewer tries.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (int i = 0; i < 300 && std::chrono::steady_clock::now() < deadline; ++i) {
    SCOPED_TRACE("try " + std::to_string(i));
    Proc e = rt().spawn({"exec", "c1", "true"});
    // exec takes some milliseconds: pause lands anywhere in it, or before, or after.
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 25000));
    Result p = rt().run({"pause", "c1"});
    if (p.exit_code == 0) {
      // While paused, exec has ended, or its process has exec'd and is frozen like the
      // container's others (exec then waits for it, as it would for any process). Frozen
      // before its execve, it would never get there and exec would wait for ever.
      bool settled = false;
      std::string comm;
      for (auto until = std::chrono::steady_clock::now() + 3s;
           !settled && std::chrono::steady_clock::now() < until;) {
        if (!e.running()) {
          settled = true;
          break;
        }
        for (pid_t kid : children_of(e.pid())) {
          comm = trim(read_file("/proc/" + std::to_string(kid) + "/comm"));
          if (!comm.empty() && comm != runtime_comm) settled = true;
        }
        if (!settled) std::this_thread::sleep_for(5ms);
      }
      EXPECT_TRUE(settled) << "exec's process is frozen before it exec'd (comm " << comm << ")";
      ASSERT_RUN_OK(rt().run({"resume", "c1"}));
    } else {
      ASSERT_EQ(p.err_lines().size(), 1u) << p.describe();
    }
    Result r = e.wait(10s);
    ASSERT_NE(r.exit_code, -1) << "exec hung against a concurrent pause\n" << r.describe();
    if (!can_pause) {
      ASSERT_EQ(r.exit_code, 0) << r.describe();
    }
    if (r.exit_code == 0) {
      ++completed;
    } else {
      ++refused;
      ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
      EXPECT_NE(r.err.find("container `c1` is paused"), std::string::npos) << r.describe();
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(completed, 0);
  std::cout << "exec racing pause: " << completed << " completed, " << refused << " refused\n";
  EXPECT_EQ(rt().status("c1"), "running");
}

// A process that is frozen before it could exec (here its --cgroup sub-cgroup was frozen by
// someone else) makes exec give up with a clear line instead of waiting for ever; the process
// is killed and goes once thawed.
TEST_P(ExecPause, ProcessFrozenBeforeItExecsIsGivenUp) {
  if (is_runc()) GTEST_SKIP() << "runc waits for a frozen process";
  ASSERT_NO_FATAL_FAILURE(start_sleeper("c1"));
  if (rootless()) {
    Result probe = rt().run({"pause", "c1"});
    if (probe.exit_code != 0) {
      GTEST_SKIP() << "the rootless container has no cgroup on this host (none is delegated to "
                      "the test user), so there is no cgroup of it to freeze: "
                   << trim(probe.err);
    }
    ASSERT_RUN_OK(rt().run({"resume", "c1"}));
  }
  const pid_t init = rt().state("c1").value("pid", 0);
  std::string sub, state_file, frozen_value, thawed_value;
  for (const auto& line : split_lines(read_file("/proc/" + std::to_string(init) + "/cgroup"))) {
    size_t a = line.find(':'), z = line.find(':', a + 1);
    std::string key = line.substr(a + 1, z - a - 1), path = line.substr(z + 1);
    if (key == "freezer") {
      sub = "/sys/fs/cgroup/freezer" + path + "/sub";
      state_file = "freezer.state", frozen_value = "FROZEN", thawed_value = "THAWED";
    } else if (key.empty() && sub.empty() && path_exists("/sys/fs/cgroup/cgroup.controllers")) {
      sub = "/sys/fs/cgroup" + path + "/sub";
      state_file = "cgroup.freeze", frozen_value = "1", thawed_value = "0";
    }
  }
  ASSERT_FALSE(sub.empty()) << "no freezer for the container's cgroup";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0) << sub;
  // Thawed and removed however the test ends: delete removes only the container's own cgroup.
  struct RemoveSub {
    std::string dir, file, thawed;
    ~RemoveSub() {
      try {
        write_file(dir + "/" + file, thawed);
      } catch (const std::exception&) {
      }
      for (int i = 0; i < 300 && !trim(read_file(dir + "/cgroup.procs")).empty(); ++i)
        std::this_thread::sleep_for(10ms);
      ::rmdir(dir.c_str());
    }
  } remove_sub{sub, state_file, thawed_value};
  // The rootless runtime moves its process in itself.
  for (const std::string& path : {sub, sub + "/cgroup.procs"})
    ASSERT_EQ(::chown(path.c_str(), identity().uid, identity().gid), 0) << path;
  write_file(sub + "/" + state_file, frozen_value);

  auto t0 = std::chrono::steady_clock::now();
  Result r = rt().run({"exec", "--cgroup", "sub", "c1", "echo", "RAN"}, {.timeout = 20s});
  auto took = std::chrono::steady_clock::now() - t0;
  write_file(sub + "/" + state_file, thawed_value);
  for (int i = 0; i < 300 && !trim(read_file(sub + "/cgroup.procs")).empty(); ++i)
    std::this_thread::sleep_for(10ms);
  std::string left = trim(read_file(sub + "/cgroup.procs"));

  EXPECT_NE(r.exit_code, -1) << "exec waited for a frozen process\n" << r.describe();
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_LT(took, 10s);
  EXPECT_EQ(r.out.find("RAN"), std::string::npos) << r.describe();
  ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
  EXPECT_NE(r.err.find("frozen"), std::string::npos) << r.describe();
  EXPECT_EQ(left, "") << "the exec'd process outlived the failed exec";
  EXPECT_EQ(rt().status("c1"), "running");
}

// SIGTERM or SIGINT to an exec whose process is stuck before it could exec (here in execve,
// which the container's seccomp profile hands to an agent that never answers): exec ends at
// once, in one line, and takes the process with it.
TEST_P(ExecPause, SignalToAWaitingExecCleansUp) {
  // The agent: a socket nobody accepts on. The runtime's connection and the listener fd it
  // sends wait in the backlog, so notified syscalls stay unanswered.
  const std::string agent_path = dir() + "/agent.sock";
  int agent = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(agent, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, agent_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(agent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(agent, 16), 0);
  ::chmod(agent_path.c_str(), 0777);  // the rootless runtime connects as the test user
  struct CloseAgent {
    int fd;
    ~CloseAgent() { ::close(fd); }
  } close_agent{agent};

  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.config["process"]["noNewPrivileges"] = true;
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"listenerPath", agent_path},
      {"syscalls", {{{"names", {"execve", "execveat"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  b.save();
  // Created, not started: the init waits for start and never reaches its own execve.
  ASSERT_RUN_OK(create(b, "c1"));
  const pid_t init = rt().state("c1").value("pid", 0);
  ASSERT_GT(init, 0);

  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(strsignal(sig));
    Proc e = rt().spawn({"exec", "c1", "echo", "RAN"});
    // Wait until the process sits in its execve, waiting for the agent.
    pid_t stuck = -1;
    for (int i = 0; i < 1000 && stuck < 0; ++i) {
      for (pid_t pid : children_of(e.pid()))
        if (read_file("/proc/" + std::to_string(pid) + "/wchan").find("seccomp") !=
            std::string::npos)
          stuck = pid;
      if (stuck < 0) std::this_thread::sleep_for(10ms);
    }
    ASSERT_GT(stuck, 0) << "the exec'd process never got stuck in execve\n"
                        << e.wait(1s).describe();
    std::this_thread::sleep_for(100ms);  // exec is in its wait, not only the process
    ::kill(e.pid(), sig);
    Result r = e.wait(10s);
    ASSERT_NE(r.exit_code, -1) << "exec ignored " << strsignal(sig) << "\n" << r.describe();
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out.find("RAN"), std::string::npos) << r.describe();
    if (!is_runc()) {
      ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
      EXPECT_NE(r.err.find(sig == SIGTERM ? "SIGTERM" : "SIGINT"), std::string::npos)
          << r.describe();
    }
    for (int i = 0; i < 300 && pid_alive(stuck); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(pid_alive(stuck)) << "the exec'd process outlived exec";
    EXPECT_TRUE(pid_alive(init));
  }
  EXPECT_EQ(rt().status("c1"), "created");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c1"}));
}

URUN_IT_INSTANTIATE(ExecPause);

}  // namespace
}  // namespace urun_it
