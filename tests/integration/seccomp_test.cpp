// linux.seccomp: the profile applies inside the container (ERRNO with and without errnoRet, an
// ERRNO default with an allow list, argument conditions, KILL), with noNewPrivileges false and
// true, to `exec` too; an invalid profile fails create cleanly; Podman's default profile runs.
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "fd_receiver.hpp"
#include "harness.hpp"

namespace urun_it {
namespace {

const char* kPodmanProfile = "/usr/share/containers/seccomp.json";

Json errno_rule(std::vector<std::string> names) {
  return {{"names", names}, {"action", "SCMP_ACT_ERRNO"}};
}

Json allow_with(Json rules) {
  return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", std::move(rules)}};
}

// What busybox and the runtime's last steps need. With noNewPrivileges false the filter is
// loaded before the switch to the process user, so the user switch, the capability calls and the
// runtime's sync socket must be allowed too (as with crun and runc).
const std::vector<std::string> kAllowList = {"access",
                                             "arch_prctl",
                                             "brk",
                                             "capget",
                                             "capset",
                                             "chdir",
                                             "close",
                                             "close_range",
                                             "dup",
                                             "dup2",
                                             "dup3",
                                             "execve",
                                             "exit",
                                             "exit_group",
                                             "fchdir",
                                             "fcntl",
                                             "fstat",
                                             "fstatfs",
                                             "futex",
                                             "getcwd",
                                             "getdents64",
                                             "getegid",
                                             "geteuid",
                                             "getgid",
                                             "getgroups",
                                             "getpgrp",
                                             "getpid",
                                             "getppid",
                                             "getrandom",
                                             "getrlimit",
                                             "gettid",
                                             "getuid",
                                             "ioctl",
                                             "lseek",
                                             "lstat",
                                             "madvise",
                                             "mmap",
                                             "mprotect",
                                             "munmap",
                                             "nanosleep",
                                             "newfstatat",
                                             "open",
                                             "openat",
                                             "poll",
                                             "ppoll",
                                             "prctl",
                                             "pread64",
                                             "prlimit64",
                                             "read",
                                             "readlink",
                                             "readlinkat",
                                             "recvfrom",
                                             "recvmsg",
                                             "rseq",
                                             "rt_sigaction",
                                             "rt_sigprocmask",
                                             "rt_sigreturn",
                                             "sendmsg",
                                             "sendto",
                                             "set_robust_list",
                                             "set_tid_address",
                                             "setgid",
                                             "setgroups",
                                             "setresgid",
                                             "setresuid",
                                             "setuid",
                                             "sigaltstack",
                                             "stat",
                                             "statfs",
                                             "statx",
                                             "sysinfo",
                                             "umask",
                                             "uname",
                                             "wait4",
                                             "write",
                                             "writev",
                                             "clone",
                                             "clone3",
                                             "fork",
                                             "vfork",
                                             "select",
                                             "pselect6",
                                             "getpgid",
                                             "setpgid",
                                             "kill",
                                             "tgkill",
                                             "getsid",
                                             "setsid",
                                             "pipe",
                                             "pipe2",
                                             "getxattr",
                                             "lgetxattr",
                                             "faccessat",
                                             "faccessat2",
                                             "keyctl"};

// A seccomp agent: listens on a unix socket, takes the container process state and the listener
// fd of each connection, and answers every notified syscall with EROFS.
class Agent {
 public:
  explicit Agent(const std::string& path) : path_(path) {
    sock_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (sock_ < 0 || ::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::listen(sock_, 4) < 0)
      throw std::runtime_error("agent socket " + path);
    ::chmod(path.c_str(), 0777);  // the rootless runtime connects as the test user
    thread_ = std::thread([this] { serve(); });
  }
  ~Agent() {
    stop_ = true;
    thread_.join();
    ::close(sock_);
  }
  std::vector<Json> states() {
    std::lock_guard<std::mutex> lock(mu_);
    return states_;
  }
  int answered() const { return answered_; }

 private:
  void serve() {
    std::vector<int> listeners;
    while (!stop_) {
      std::vector<pollfd> fds{{sock_, POLLIN, 0}};
      for (int l : listeners) fds.push_back({l, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) accept_one(listeners);
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents & POLLIN) answer(fds[i].fd);
        if (fds[i].revents & (POLLHUP | POLLERR)) {
          ::close(fds[i].fd);
          listeners.erase(std::find(listeners.begin(), listeners.end(), fds[i].fd));
        }
      }
    }
    for (int l : listeners) ::close(l);
  }
  void accept_one(std::vector<int>& listeners) {
    int conn = ::accept4(sock_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    std::string text;
    int fd = -1;
    for (;;) {
      urun_test::Received r = urun_test::receive_fds(conn);
      if (r.bytes <= 0) break;  // the runtime closes the connection after one state
      for (int f : r.fds) {
        if (fd >= 0) ::close(fd);
        fd = f;
      }
      text += r.payload;
      // One whole JSON document: do not depend on the runtime closing first.
      if (!Json::parse(text, nullptr, false).is_discarded()) break;
    }
    ::close(conn);
    std::lock_guard<std::mutex> lock(mu_);
    states_.push_back(Json::parse(text, nullptr, false));
    if (fd >= 0) listeners.push_back(fd);
  }
  void answer(int listener) {
    seccomp_notif req{};
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) return;
    seccomp_notif_resp resp{};
    resp.id = req.id;
    resp.error = -EROFS;
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0) ++answered_;
  }

  std::string path_;
  int sock_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::mutex mu_;
  std::vector<Json> states_;
};

class Seccomp : public IntegrationTest {
 protected:
  Result run_with(Json profile, const std::string& script, bool no_new_privs = true,
                  const std::string& id = "s1") {
    Bundle b = make_bundle({.name = id});
    b.config["linux"]["seccomp"] = std::move(profile);
    b.config["process"]["noNewPrivileges"] = no_new_privs;
    b.sh(script);
    b.save();
    return run_container(b, id);
  }
};

TEST_P(Seccomp, ErrnoActionDeniesOnlyTheListedSyscalls) {
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges true" : "noNewPrivileges false");
    Result r = run_with(allow_with({errno_rule({"mkdir", "mkdirat"})}),
                        "mkdir /dev/shm/d 2>&1; echo rc=$?; touch /dev/shm/f && echo touched; "
                        "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status",
                        nnp, nnp ? "n1" : "n0");
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("rc=1\ntouched\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(nnp ? "NoNewPrivs:\t1" : "NoNewPrivs:\t0"), std::string::npos) << r.out;
  }
}

TEST_P(Seccomp, ErrnoRetChoosesTheError) {
  Json rule = errno_rule({"mkdir", "mkdirat"});
  rule["errnoRet"] = 28;  // ENOSPC
  Result r = run_with(allow_with({rule}), "mkdir /dev/shm/d 2>&1; echo rc=$?");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r.out;
}

TEST_P(Seccomp, ErrnoDefaultWithAnAllowList) {
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges true" : "noNewPrivileges false");
    Json profile = {{"defaultAction", "SCMP_ACT_ERRNO"},
                    {"defaultErrnoRet", 1},
                    {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                    {"syscalls", {{{"names", kAllowList}, {"action", "SCMP_ACT_ALLOW"}}}}};
    // mkdir is not in the list: the default action answers EPERM.
    Result r =
        run_with(profile, "echo hello; ls / | grep -c proc; mkdir /dev/shm/d 2>&1; echo rc=$?", nnp,
                 nnp ? "a1" : "a2");
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(
        r.out,
        "hello\n1\nmkdir: can't create directory '/dev/shm/d': Operation not permitted\nrc=1\n");
  }
}

TEST_P(Seccomp, ArgumentConditions) {
  // kill(pid, SIGUSR1) denied; kill with another signal allowed.
  Json rule = errno_rule({"kill"});
  rule["args"] = {{{"index", 1}, {"value", SIGUSR1}, {"op", "SCMP_CMP_EQ"}}};
  Result r = run_with(allow_with({rule}),
                      "trap 'echo got-usr2' USR2; kill -USR1 $$ 2>&1; echo usr1=$?; "
                      "kill -USR2 $$; echo usr2=$?");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("usr1=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("got-usr2\nusr2=0"), std::string::npos) << r.out;
}

TEST_P(Seccomp, KillActionsKillWithSigsys) {
  int n = 0;
  for (const char* action : {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD"}) {
    SCOPED_TRACE(action);
    Bundle b = make_bundle({.name = "k" + std::to_string(++n)});
    b.config["linux"]["seccomp"] =
        allow_with({{{"names", {"mkdir", "mkdirat"}}, {"action", action}}});
    b.set_args({"mkdir", "/dev/shm/d"});
    b.save();
    Result r = run_container(b, "k1");
    EXPECT_EQ(r.exit_code, 128 + SIGSYS) << r.describe();
  }
}

TEST_P(Seccomp, AppliesToExec) {
  Bundle b = make_bundle();
  b.config["linux"]["seccomp"] = allow_with({errno_rule({"mkdir", "mkdirat"})});
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "e1"));
  ASSERT_RUN_OK(rt().run({"start", "e1"}));
  Result r = rt().run({"exec", "e1", "sh", "-c", "mkdir /dev/shm/d 2>&1; echo rc=$?"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r.out;

  // --process replaces the process, not linux.seccomp: both noNewPrivileges values.
  for (bool nnp : {false, true}) {
    Json proc = {{"args", {"sh", "-c", "mkdir /dev/shm/d2 2>&1; echo rc=$?"}},
                 {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}},
                 {"cwd", "/"},
                 {"noNewPrivileges", nnp},
                 {"user", {{"uid", 0}, {"gid", 0}}}};
    std::string file = dir() + "/process.json";
    write_file(file, proc.dump());
    Result p = rt().run({"exec", "--process", file, "e1"});
    ASSERT_EQ(p.exit_code, 0) << p.describe();
    EXPECT_NE(p.out.find("Operation not permitted"), std::string::npos) << p.out;
  }
  ASSERT_RUN_OK(rt().run({"delete", "--force", "e1"}));
}

TEST_P(Seccomp, InvalidProfileFailsCreateCleanly) {
  Bundle b = make_bundle();
  b.config["linux"]["seccomp"] = allow_with({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_BOGUS"}}});
  b.save();
  expect_clean_failure(create(b, "bad1"), "linux.seccomp.syscalls[0].action");

  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"architectures", {"SCMP_ARCH_PDP11"}}};
  b.save();
  expect_clean_failure(create(b, "bad2"), "linux.seccomp.architectures[0]");

  b.config["linux"]["seccomp"] =
      allow_with({{{"names", {"kill"}},
                   {"action", "SCMP_ACT_ERRNO"},
                   {"args", {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_SOMETIMES"}}}}}});
  b.save();
  expect_clean_failure(create(b, "bad3"), "linux.seccomp.syscalls[0].args[0].op");
}

TEST_P(Seccomp, UnknownSyscallNamesAreSkipped) {
  Result r = run_with(allow_with({errno_rule({"urun_no_such_syscall", "mkdir", "mkdirat"})}),
                      "mkdir /dev/shm/d 2>&1; echo rc=$?");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "") << "skipping an unknown name is not worth a line on every run";
}

TEST_P(Seccomp, FailUnknownSyscallAnnotation) {
  if (is_runc()) GTEST_SKIP() << "run.oci.* annotations are crun's";
  Bundle b = make_bundle();
  b.config["linux"]["seccomp"] = allow_with({errno_rule({"urun_no_such_syscall"})});
  b.config["annotations"]["run.oci.seccomp_fail_unknown_syscall"] = "1";
  b.save();
  expect_clean_failure(create(b, "u1"), "urun_no_such_syscall");
}

// Podman's default profile (containers-common) in OCI form, as Podman hands it to the runtime:
// the native architecture with its sub-architectures, and the entries whose includes/excludes
// (capabilities, architectures) match this container.
Json podman_profile(const std::set<std::string>& caps) {
  Json src = Json::parse(read_file(kPodmanProfile));
  Json out = {{"defaultAction", src["defaultAction"]},
              {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
              {"syscalls", Json::array()}};
  if (src.contains("defaultErrnoRet")) out["defaultErrnoRet"] = src["defaultErrnoRet"];
  auto all_in = [&](const Json& list) {
    for (const auto& c : list)
      if (!caps.count(c.get<std::string>())) return false;
    return true;
  };
  auto any_in = [&](const Json& list) {
    for (const auto& c : list)
      if (caps.count(c.get<std::string>())) return true;
    return false;
  };
  for (const auto& s : src["syscalls"]) {
    Json inc = s.value("includes", Json::object());
    Json exc = s.value("excludes", Json::object());
    if (inc.contains("arches") && !inc["arches"].empty()) {
      bool ours = false;
      for (const auto& a : inc["arches"]) ours |= a == "amd64";
      if (!ours) continue;
    }
    if (inc.contains("caps") && !inc["caps"].empty() && !all_in(inc["caps"])) continue;
    if (exc.contains("caps") && any_in(exc["caps"])) continue;
    Json rule = {{"names", s["names"]}, {"action", s["action"]}};
    if (s.contains("args") && !s["args"].is_null() && !s["args"].empty()) rule["args"] = s["args"];
    if (s.contains("errnoRet") && !s["errnoRet"].is_null()) rule["errnoRet"] = s["errnoRet"];
    out["syscalls"].push_back(rule);
  }
  return out;
}

TEST_P(Seccomp, PodmanDefaultProfileRunsAContainer) {
  ASSERT_TRUE(path_exists(kPodmanProfile))
      << kPodmanProfile
      << " missing: scripts/install-deps installs golang-github-containers-common";
  Bundle probe = make_bundle({.name = "probe"});
  std::set<std::string> caps;
  for (const auto& c : probe.config["process"]["capabilities"]["bounding"]) caps.insert(c);
  Json profile = podman_profile(caps);
  ASSERT_GT(profile["syscalls"].size(), 10u);
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges true" : "noNewPrivileges false");
    // The filter is there (Seccomp: 2) and what a shell does still works.
    Result r = run_with(profile,
                        "echo hello; mkdir /dev/shm/d && echo made; ls /dev/shm; "
                        "grep '^Seccomp:' /proc/self/status",
                        nnp, nnp ? "p1" : "p2");
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "hello\nmade\nd\nSeccomp:\t2\n");
  }
}

// runc's ENOSYS stub: a syscall newer than every syscall the profile names fails with ENOSYS
// (what a kernel without it says, so the C library falls back to an older call), while the
// profile's own answers stand: its default EPERM below that line, its explicit rules. busybox
// cannot make a syscall by number: a small static probe is copied into the rootfs.
TEST_P(Seccomp, SyscallsNewerThanTheProfileGetEnosys) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the syscall numbers below are x86_64's";
#else
  Bundle b = make_bundle({.name = "enosys", .writable_rootfs = true});
  host_sh("cp '" URUN_IT_SYSCALL_PROBE "' '" + b.rootfs + "/bin/syscall-probe' && chmod 0755 '" +
          b.rootfs + "/bin/syscall-probe'");
  std::vector<std::string> allowed = kAllowList;
  Json profile = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls",
       {{{"names", allowed}, {"action", "SCMP_ACT_ALLOW"}},
        // The newest syscall named (448), with an answer of its own.
        {{"names", {"process_mrelease"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EACCES}}}}};
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges true" : "noNewPrivileges false");
    b.config["linux"]["seccomp"] = profile;
    b.config["process"]["noNewPrivileges"] = nnp;
    // mkdir (83): older, not named: the default EPERM. 448: its rule. futex_waitv (449) and
    // 1000: newer than the profile: ENOSYS.
    b.set_args({"/bin/syscall-probe", "83", "448", "449", "1000"});
    b.save();
    Result r = run_container(b, nnp ? "e1" : "e0");
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "83=" + std::to_string(EPERM) + "\n448=" + std::to_string(EACCES) + "\n449=" +
                         std::to_string(ENOSYS) + "\n1000=" + std::to_string(ENOSYS) + "\n");
  }
#endif
}

TEST_P(Seccomp, NotifyHandsTheListenerToTheAgent) {
  std::string path = dir() + "/agent.sock";
  Agent agent(path);
  Json profile = {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"listenerPath", path},
                  {"listenerMetadata", "meta-x"},
                  {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  for (bool nnp : {true, false}) {
    SCOPED_TRACE(nnp ? "noNewPrivileges true" : "noNewPrivileges false");
    std::string id = nnp ? "nt1" : "nt0";
    Result r = run_with(profile, "mkdir /dev/shm/d 2>&1; echo rc=$?", nnp, id);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
    auto states = agent.states();
    ASSERT_FALSE(states.empty());
    const Json& s = states.back();
    EXPECT_EQ(s.value("fds", Json()), Json({"seccompFd"})) << s.dump();
    EXPECT_EQ(s.value("metadata", ""), "meta-x") << s.dump();
    EXPECT_GT(s.value("pid", 0), 0) << s.dump();
    ASSERT_TRUE(s.contains("state")) << s.dump();
    EXPECT_EQ(s["state"].value("id", ""), id) << s.dump();
    EXPECT_EQ(s["state"].value("status", ""), "creating") << s.dump();
  }
  EXPECT_GE(agent.answered(), 2);

  // exec gets the container's profile, so its own listener.
  Bundle b = make_bundle({.name = "nx"});
  b.config["linux"]["seccomp"] = profile;
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "nx"));
  ASSERT_RUN_OK(rt().run({"start", "nx"}));
  size_t before = agent.states().size();
  Result e = rt().run({"exec", "nx", "sh", "-c", "mkdir /dev/shm/e 2>&1; echo rc=$?"});
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_NE(e.out.find("Read-only file system"), std::string::npos) << e.out;
  auto states = agent.states();
  ASSERT_GT(states.size(), before);
  EXPECT_EQ(states.back()["state"].value("status", ""), "running") << states.back().dump();
  ASSERT_RUN_OK(rt().run({"delete", "--force", "nx"}));
}

TEST_P(Seccomp, NotifyWithoutAListeningAgentFailsCleanly) {
  Bundle b = make_bundle();
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"listenerPath", dir() + "/nobody-listens.sock"},
      {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  b.save();
  expect_clean_failure(create(b, "na"), "nobody-listens.sock");
}

URUN_IT_INSTANTIATE(Seccomp);

}  // namespace
}  // namespace urun_it
