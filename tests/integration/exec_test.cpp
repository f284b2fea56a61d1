// exec: a new process in a running container's namespaces, cgroup and root, with the container's
// process settings as defaults and the command line's overrides.
#include <signal.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

class Exec : public IntegrationTest {
 protected:
  // A started container running `sleep 1000`; returns the init's host pid.
  pid_t start_sleeper(Bundle& b, const std::string& id) {
    b.set_args({"sleep", "1000"});
    b.config["hostname"] = "exec-host";
    b.save();
    Result c = create(b, id);
    if (c.exit_code != 0) ADD_FAILURE() << c.describe();
    Result s = rt().run({"start", id});
    if (s.exit_code != 0) ADD_FAILURE() << s.describe();
    return rt().state(id).value("pid", 0);
  }
  pid_t start_sleeper(const std::string& id = "c1") {
    Bundle b = make_bundle();
    return start_sleeper(b, id);
  }
  // Runs the runtime through sh so that fd 3 of the runtime is `file`.
  Result exec_with_fd3(const std::string& file, const std::vector<std::string>& args) {
    std::string cmd = "exec 3<'" + file + "'; exec '" + world().runtime() + "' --root '" +
                      rt().state_root() + "' exec";
    for (const auto& a : args) cmd += " '" + a + "'";
    return run_as(identity(), {"sh", "-c", cmd}, dir() + "/io");
  }
};

TEST_P(Exec, RunsCommandAndPassesItsArguments) {
  start_sleeper();
  Result id = exec({"c1", "id"});
  ASSERT_EQ(id.exit_code, 0) << id.describe();
  EXPECT_TRUE(id.out.starts_with("uid=0(root) gid=0(root)")) << id.out;
  // Options after the command belong to it: -c goes to sh, not to exec.
  Result sh = exec({"c1", "sh", "-c", "echo -n x"});
  ASSERT_EQ(sh.exit_code, 0) << sh.describe();
  EXPECT_EQ(sh.out, "x");
  EXPECT_EQ(rt().status("c1"), "running");
}

TEST_P(Exec, ExitStatusPassesThrough) {
  start_sleeper();
  EXPECT_EQ(exec({"c1", "sh", "-c", "exit 3"}).exit_code, 3);
  EXPECT_EQ(exec({"c1", "sh", "-c", "kill -9 $$"}).exit_code, 128 + SIGKILL);
}

TEST_P(Exec, EnvAddsToTheContainersEnv) {
  Bundle b = make_bundle();
  b.add_env("FROM_CONFIG=yes");
  b.add_env("OVERRIDE=old");
  start_sleeper(b, "c1");
  Result r = exec({"--env", "FOO=bar", "--env", "OVERRIDE=new", "c1", "sh", "-c",
                   "echo $FOO $FROM_CONFIG $OVERRIDE"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "bar yes new\n");
  EXPECT_NE(exec({"--env", "NOEQUALS", "c1", "true"}).exit_code, 0);
}

TEST_P(Exec, Cwd) {
  start_sleeper();
  Result r = exec({"--cwd", "/tmp", "c1", "pwd"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "/tmp\n");
  Result d = exec({"c1", "pwd"});
  ASSERT_EQ(d.exit_code, 0) << d.describe();
  EXPECT_EQ(d.out, "/\n") << "the container's cwd is the default";
}

TEST_P(Exec, User) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  start_sleeper(b, "c1");
  Result r = exec({"--user", "1000:1000", "c1", "sh", "-c", "id -u; id -g"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "1000\n1000\n");
  Result u = exec({"-u", "1000", "c1", "sh", "-c", "id -u; id -g"});
  ASSERT_EQ(u.exit_code, 0) << u.describe();
  EXPECT_EQ(u.out, "1000\n0\n");
}

TEST_P(Exec, GarbageUserIsRefusedBeforeRunning) {
  start_sleeper();
  for (const std::string user : {"abc", "1:x", "1:", ":1", "-1", "1:2:3", " 1", "99999999999"}) {
    SCOPED_TRACE("--user '" + user + "'");
    if (is_runc() && user == "99999999999") continue;  // runc wraps it around
    Result r = exec({"--user", user, "c1", "echo", "RAN"});
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out.find("RAN"), std::string::npos) << r.describe();
    EXPECT_EQ(r.err_lines().size(), 1u) << r.describe();
  }
  EXPECT_EQ(rt().status("c1"), "running");
}

TEST_P(Exec, ProcessFile) {
  start_sleeper();
  Json proc = {{"args", {"sh", "-c", "echo $A; pwd; id -u"}},
               {"env", {"A=from-file", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}},
               {"cwd", "/tmp"},
               {"user", {{"uid", 0}, {"gid", 0}}}};
  std::string file = dir() + "/process.json";
  write_file(file, proc.dump());
  Result r = exec({"--process", file, "c1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "from-file\n/tmp\n0\n");
}

TEST_P(Exec, JoinsTheContainersNamespaces) {
  pid_t init = start_sleeper();
  ASSERT_GT(init, 0);
  Result pidns = exec({"c1", "sh", "-c", "grep NSpid /proc/self/status; cat /proc/1/cmdline"});
  ASSERT_EQ(pidns.exit_code, 0) << pidns.describe();
  std::vector<std::string> lines = split_lines(pidns.out);
  ASSERT_GE(lines.size(), 2u) << pidns.out;
  // The container's /proc shows pids of its own namespace only: one number, not the host's.
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(R"(NSpid:\s+\d+)"))) << lines[0];
  EXPECT_EQ(lines[1].substr(0, 5), "sleep") << "pid 1 of the exec'd process is the init";

  Result host = exec({"c1", "hostname"});
  ASSERT_EQ(host.exit_code, 0) << host.describe();
  EXPECT_EQ(host.out, "exec-host\n");

  for (const std::string ns : {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup"}) {
    SCOPED_TRACE(ns);
    char buf[128] = {};
    std::string link = "/proc/" + std::to_string(init) + "/ns/" + ns;
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    ASSERT_GT(n, 0) << link;
    Result r = exec({"c1", "readlink", "/proc/self/ns/" + ns});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(trim(r.out), std::string(buf, static_cast<size_t>(n)));
  }
  // The container's root: its /etc/hostname-free rootfs, not the host's.
  Result root = exec({"c1", "sh", "-c", "test -e /.urun-it-complete || echo container-root"});
  EXPECT_EQ(root.exit_code, 0) << root.describe();
}

TEST_P(Exec, CapabilitiesAreTheContainers) {
  pid_t init = start_sleeper();
  std::string want = status_field(read_file("/proc/" + std::to_string(init) + "/status"), "CapEff");
  Result r = exec({"c1", "cat", "/proc/self/status"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(status_field(r.out, "CapEff"), want);
  EXPECT_EQ(status_field(r.out, "CapBnd"),
            status_field(read_file("/proc/" + std::to_string(init) + "/status"), "CapBnd"));

  Result added = exec({"--cap", "CAP_SYS_ADMIN", "c1", "cat", "/proc/self/status"});
  ASSERT_EQ(added.exit_code, 0) << added.describe();
  uint64_t eff = std::stoull(status_field(added.out, "CapEff"), nullptr, 16);
  EXPECT_TRUE(eff & (1ull << 21)) << "CAP_SYS_ADMIN (21) must be effective: " << added.out;
  EXPECT_EQ(eff & ~(1ull << 21), std::stoull(want, nullptr, 16)) << "and nothing else added";
  if (!is_runc()) {  // runc warns and goes on
    EXPECT_NE(exec({"--cap", "CAP_NOSUCH", "c1", "true"}).exit_code, 0);
  }
}

TEST_P(Exec, NoNewPrivs) {
  Bundle b = make_bundle();
  b.config["process"]["noNewPrivileges"] = false;
  start_sleeper(b, "c1");
  Result off = exec({"c1", "cat", "/proc/self/status"});
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  EXPECT_EQ(status_field(off.out, "NoNewPrivs"), "0");
  Result on = exec({"--no-new-privs", "c1", "cat", "/proc/self/status"});
  ASSERT_EQ(on.exit_code, 0) << on.describe();
  EXPECT_EQ(status_field(on.out, "NoNewPrivs"), "1");
}

TEST_P(Exec, DetachAndPidFile) {
  start_sleeper();
  std::string pid_file = dir() + "/exec.pid";
  auto t0 = std::chrono::steady_clock::now();
  Result r = exec({"-d", "--pid-file", pid_file, "c1", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_TRUE(path_exists(pid_file));
  pid_t pid = std::stoi(read_file(pid_file));
  EXPECT_TRUE(pid_alive(pid));
  std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  EXPECT_EQ(status_field(status, "Name"), "sleep");
  ::kill(pid, SIGKILL);
}

TEST_P(Exec, PreserveFds) {
  start_sleeper();
  std::string file = dir() + "/fd3.txt";
  write_file(file, "through fd 3\n");
  Result r = exec_with_fd3(file, {"--preserve-fds", "1", "c1", "sh", "-c", "cat <&3"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "through fd 3\n");
}

TEST_P(Exec, NoFdLeaks) {
  start_sleeper();
  std::string file = dir() + "/fd3.txt";
  write_file(file, "x\n");
  // fd 3 of the runtime is not preserved; ls's own directory fd is the only other one.
  Result r = exec_with_fd3(file, {"c1", "ls", "/proc/self/fd"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::vector<std::string> fds;
  for (const auto& line : split_lines(r.out)) {
    std::istringstream words(line);
    for (std::string w; words >> w;) fds.push_back(w);
  }
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"})) << r.out;
}

TEST_P(Exec, StoppedContainerFails) {
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.save();
  ASSERT_RUN_OK(create(b, "gone"));
  ASSERT_RUN_OK(rt().run({"start", "gone"}));
  ASSERT_EQ(rt().wait_status("gone", "stopped"), "stopped");
  Result r = exec({"gone", "echo", "RAN"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.find("RAN"), std::string::npos);
  EXPECT_EQ(r.err_lines().size(), 1u) << r.describe();
  if (!is_runc()) {
    EXPECT_NE(r.err.find("container `gone` is not running"), std::string::npos) << r.err;
  }
  Result missing = exec({"nosuchcontainer", "true"});
  EXPECT_NE(missing.exit_code, 0);
}

TEST_P(Exec, MissingExecutableExits127WithOneLine) {
  start_sleeper();
  Result r = exec({"c1", "nosuch-program"});
  if (!is_runc()) {
    EXPECT_EQ(r.exit_code, 127) << r.describe();  // runc exits 255
  }
  EXPECT_NE(r.exit_code, 0);
  ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
  EXPECT_NE(r.err.find("nosuch-program"), std::string::npos) << r.err;
  if (!is_runc()) {
    EXPECT_NE(r.err.find("exec `c1`"), std::string::npos) << r.err;
    Result dir = exec({"c1", "/tmp"});
    EXPECT_EQ(dir.exit_code, 126) << dir.describe();
  }
  EXPECT_EQ(rt().status("c1"), "running");
}

// crun and runc both exec into a created container: its init and namespaces exist.
TEST_P(Exec, CreatedContainerAllowsExec) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "c1"));
  Result r = exec({"c1", "echo", "hi"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(rt().status("c1"), "created");
  EXPECT_RUN_OK(rt().run({"start", "c1"}));
}

TEST_P(Exec, ForwardsSignals) {
  start_sleeper();
  Proc p = rt().spawn({"exec", "c1", "sleep", "1000"});
  // The process exists once the container has two processes.
  for (int i = 0; i < 100; ++i) {
    Result ps = exec({"c1", "sh", "-c", "ls -d /proc/[0-9]* | wc -l"});
    if (ps.exit_code == 0 && std::stoi(trim(ps.out)) >= 4) break;  // init, sleep, sh, ls
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(p.pid(), SIGTERM);
  Result r = p.wait(std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.describe();
}

URUN_IT_INSTANTIATE(Exec);

}  // namespace
}  // namespace urun_it
