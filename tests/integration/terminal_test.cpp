// process.terminal: the pty's master sent to a --console-socket (run, create,
// exec), urun relaying the terminal itself in the foreground (run, exec -t
// driven from a pty of the test's), the refusal of a detached terminal nobody
// would hold, and LISTEN_FDS socket activation.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <thread>

#include "fd_receiver.hpp"
#include "harness.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace urun_it {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Reads `fd` until `want` appears, EOF/EIO, or the timeout; returns everything
// read.
std::string read_until(int fd, const std::string& want,
                       milliseconds timeout = milliseconds(10000)) {
  std::string got;
  auto deadline = Clock::now() + timeout;
  while (got.find(want) == std::string::npos) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

void write_str(int fd, const std::string& s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size())) << strerror(errno);
}

// The receiving end of --console-socket, as conmon implements it: a listening
// unix stream socket; one connection; one message carrying the pty master with
// SCM_RIGHTS.
class ConsoleSocket {
 public:
  // The rootless runtime connects as the test user: the socket is 0777 (fd_receiver.hpp).
  explicit ConsoleSocket(std::string path) : listener_(std::move(path)) {}
  ~ConsoleSocket() {
    if (master_ >= 0) ::close(master_);
  }
  const std::string& path() const { return listener_.path(); }
  const std::string& payload() const { return payload_; }

  // Accepts the runtime's connection and receives the master; -1 on timeout or
  // protocol error.
  int receive(milliseconds timeout = milliseconds(15000)) {
    urun_test::Received r = listener_.accept_and_receive(timeout);
    if (r.bytes < 0) return -1;
    payload_ = r.payload;
    for (int fd : r.fds) {
      if (master_ < 0)
        master_ = fd;
      else
        ::close(fd);
    }
    if (r.fds.size() != 1) {
      ADD_FAILURE() << "want exactly one fd in the console message, got " << r.fds.size();
      return -1;
    }
    return master_;
  }

 private:
  urun_test::FdListener listener_;
  std::string payload_;
  int master_ = -1;
};

// The runtime run with its stdio on a pty of the test's (its controlling
// terminal), as from an interactive shell.
struct PtyProcess {
  pid_t pid = -1;
  int master = -1;
  int slave = -1;  // kept open by the test, to read the termios urun leaves behind
  ~PtyProcess() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (master >= 0) ::close(master);
    if (slave >= 0) ::close(slave);
  }
  // Exit code, 128+signal, or -1 on timeout (then killed).
  int wait(milliseconds timeout = milliseconds(20000)) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      int status;
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        pid = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
      }
      if (Clock::now() > deadline) return -1;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
};

// The container shell's own open fds, one `ls -l` line each, then "end": what the runtime let
// through. (A glob, a pipe or a command substitution would add an fd of the shell's own.)
const std::string kShellFds = "ls -l /proc/$$/fd; echo end";

// The fd numbers of kShellFds's output.
std::string listed_fds(const std::string& out) {
  static const std::regex line(R"( (\d+) -> )");
  std::string fds;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator();
       ++it)
    fds += (fds.empty() ? "" : " ") + (*it)[1].str();
  return fds;
}

class Terminal : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    // What the test binary inherited (ctest's log on fd 3) must not reach the runtime: the tests
    // pass --preserve-fds for fds that are not open, to see that none of the runtime's own fds
    // lands there and leaks into the container.
    ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  }
  Bundle terminal_bundle(const std::string& script, std::optional<std::pair<int, int>> size = {}) {
    Bundle b = make_bundle();
    b.sh(script);
    b.config["process"]["terminal"] = true;
    if (size)
      b.config["process"]["consoleSize"] = {{"height", size->first}, {"width", size->second}};
    b.save();
    return b;
  }

  std::vector<std::string> runtime_argv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {world().runtime(), "--root", rt().state_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Starts the runtime as the mode's identity with stdio on a new pty sized
  // rows x cols.
  void spawn_on_pty(PtyProcess& p, const std::vector<std::string>& args, unsigned short rows,
                    unsigned short cols) {
    p.master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(p.master, 0);
    ASSERT_EQ(::grantpt(p.master), 0);
    ASSERT_EQ(::unlockpt(p.master), 0);
    std::string slave_path = ::ptsname(p.master);
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    ASSERT_EQ(::ioctl(p.master, TIOCSWINSZ, &ws), 0);
    p.slave = ::open(slave_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(p.slave, 0);

    const Identity& id = identity();
    std::vector<std::string> argv = runtime_argv(args);
    std::vector<std::string> env = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + id.home,
        "USER=" + id.name, "TERM=xterm"};
    if (!id.is_root()) env.push_back("XDG_RUNTIME_DIR=/run/user/" + std::to_string(id.uid));
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    std::string cwd = dir();
    int slave = p.slave;

    p.pid = ::fork();
    ASSERT_GE(p.pid, 0);
    if (p.pid == 0) {
      // A session whose controlling terminal is the slave, as a login shell
      // has.
      ::setsid();
      if (::ioctl(slave, TIOCSCTTY, 0) != 0) _exit(124);
      for (int fd = 0; fd < 3; ++fd) ::dup2(slave, fd);
      if (::chdir(cwd.c_str()) != 0) _exit(125);
      if (!id.is_root()) {
        if (::setgroups(id.groups.size(), id.groups.data()) != 0) _exit(126);
        if (::setresgid(id.gid, id.gid, id.gid) != 0) _exit(126);
        if (::setresuid(id.uid, id.uid, id.uid) != 0) _exit(126);
      }
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
  }

  // A created and started container running `sleep 1000`, without a terminal.
  void start_sleeper(const std::string& id = "c1") {
    Bundle b = make_bundle(BundleOptions{.name = "sleeper"});
    b.set_args({"sleep", "1000"});
    b.save();
    ASSERT_RUN_OK(create(b, id));
    ASSERT_RUN_OK(rt().run({"start", id}));
  }

  std::string socket_path() const { return dir() + "/console.sock"; }
};

const std::regex kPtsLine(R"(/dev/pts/\d+\r?\n)");

TEST_P(Terminal, ConsoleSocketReceivesTheMasterOfAContainerPty) {
  // The shell's own fds are listed: 0-2 on the pty and nothing else of the
  // runtime's or host's.
  Bundle b = terminal_bundle(
      "tty; stty size; echo fds:; " + kShellFds + "; read line; echo got:$line; exit 3",
      {{25, 91}});
  ConsoleSocket console(socket_path());
  // crun (and urun) take a console socket in the foreground and pass the exit status through;
  // runc only with --detach.
  // --preserve-fds names fds 3 and 4, which are not open (see SetUp): the runtime's own fds (its
  // state dir, the console socket) that would land there must not reach the process.
  std::vector<std::string> args = {"run",          "--bundle",       b.dir, "--console-socket",
                                   console.path(), "--preserve-fds", "2"};
  if (is_runc()) args.push_back("--detach");
  args.push_back("c1");
  Proc run = rt().spawn(args);
  int master = console.receive();
  ASSERT_GE(master, 0) << run.wait(milliseconds(5000)).describe();
  if (!is_runc()) {
    EXPECT_EQ(console.payload(), "/dev/ptmx") << "the name runc sends with the master";
  }

  std::string out = read_until(master, "end\r\n");
  EXPECT_TRUE(std::regex_search(out, kPtsLine)) << out;
  EXPECT_NE(out.find("25 91"), std::string::npos) << "consoleSize: " << out;
  EXPECT_EQ(listed_fds(out), "0 1 2") << out;

  write_str(master, "hello\n");
  std::string echoed = read_until(master, "got:hello");
  EXPECT_NE(echoed.find("got:hello"), std::string::npos) << echoed;
  Result r = run.wait();
  if (is_runc()) {
    EXPECT_EQ(r.exit_code, 0) << r.describe();
  } else {
    EXPECT_EQ(r.exit_code, 3) << r.describe();
  }
}

TEST_P(Terminal, CreateSendsTheMasterAndStartRunsOnIt) {
  // The runtime spec: /dev/console is the terminal too.
  Bundle b = terminal_bundle(
      "tty; stty size; echo via-console >/dev/console; read line; echo got:$line", {{30, 100}});
  ConsoleSocket console(socket_path());
  ASSERT_RUN_OK(create(b, "c1", {"--console-socket", console.path()}));
  int master = console.receive();
  ASSERT_GE(master, 0);
  EXPECT_EQ(rt().status("c1"), "created");
  ASSERT_RUN_OK(rt().run({"start", "c1"}));
  std::string out = read_until(master, "via-console");  // printed last
  EXPECT_TRUE(std::regex_search(out, kPtsLine)) << out;
  EXPECT_NE(out.find("30 100"), std::string::npos) << out;
  EXPECT_NE(out.find("via-console"), std::string::npos) << out;
  write_str(master, "typed\n");
  out = read_until(master, "got:typed");
  EXPECT_NE(out.find("got:typed"), std::string::npos) << out;
  EXPECT_EQ(rt().wait_status("c1", "stopped"), "stopped");
}

TEST_P(Terminal, ExecTtyWithConsoleSocket) {
  start_sleeper();
  // Podman's conmon: exec --pid-file P --process F --detach --tty
  // --console-socket S ID.
  Json proc = {{"args", {"sh", "-c", "tty; stty size; read line; echo got:$line"}},
               {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", token()}},
               {"cwd", "/"},
               {"terminal", true},
               {"consoleSize", {{"height", 40}, {"width", 132}}},
               {"user", {{"uid", 0}, {"gid", 0}}}};
  std::string file = dir() + "/process.json";
  write_file(file, proc.dump());
  std::string pid_file = dir() + "/exec.pid";
  ConsoleSocket console(socket_path());
  ASSERT_RUN_OK(rt().run({"exec", "--pid-file", pid_file, "--process", file, "--detach", "--tty",
                          "--console-socket", console.path(), "c1"}));
  int master = console.receive();
  ASSERT_GE(master, 0);
  std::string out = read_until(master, "40 132");
  EXPECT_TRUE(std::regex_search(out, kPtsLine)) << out;
  EXPECT_NE(out.find("40 132"), std::string::npos) << out;
  write_str(master, "in-exec\n");
  out = read_until(master, "got:in-exec");
  EXPECT_NE(out.find("got:in-exec"), std::string::npos) << out;
  EXPECT_TRUE(path_exists(pid_file));

  // In the foreground, the exit status passes through while the master is the socket's
  // (crun's behaviour; runc refuses a console socket for a foreground exec).
  if (is_runc()) return;
  ConsoleSocket again(dir() + "/console2.sock");
  Proc fg = rt().spawn({"exec", "-t", "--preserve-fds", "2", "--console-socket", again.path(), "c1",
                        "sh", "-c", kShellFds + "; exit 5"});
  int master2 = again.receive();
  ASSERT_GE(master2, 0) << fg.wait(milliseconds(5000)).describe();
  out = read_until(master2, "end\r\n", milliseconds(10000));
  EXPECT_EQ(listed_fds(out), "0 1 2") << out;
  Result r = fg.wait();
  EXPECT_EQ(r.exit_code, 5) << r.describe();
  EXPECT_EQ(rt().status("c1"), "running");
}

TEST_P(Terminal, DetachedTerminalWithoutConsoleSocketIsRefused) {
  Bundle b = terminal_bundle("echo RAN");
  Result run = rt().run({"run", "-d", "--bundle", b.dir, "c1"});
  expect_clean_failure(run, "--console-socket");
  EXPECT_EQ(run.out.find("RAN"), std::string::npos);
  Result created = create(b, "c2");
  expect_clean_failure(created, "--console-socket");

  start_sleeper("c3");
  Result exec = rt().run({"exec", "-d", "-t", "c3", "sh", "-c", "echo RAN"});
  EXPECT_NE(exec.exit_code, 0) << exec.describe();
  EXPECT_EQ(exec.err_lines().size(), 1u) << exec.describe();
  if (!is_runc()) {
    EXPECT_NE(exec.err.find("--console-socket"), std::string::npos) << exec.describe();
  }
  EXPECT_EQ(exec.out.find("RAN"), std::string::npos);
  if (!is_runc()) {  // runc's ps needs a cgroup it cannot have rootless
    Result ps = rt().run({"ps", "c3"});
    EXPECT_EQ(split_lines(trim(ps.out)).size(), 2u) << "only the header and the init: " << ps.out;
  }
}

TEST_P(Terminal, ForegroundRunRelaysTheTerminal) {
  // No consoleSize: the pty takes the size of the caller's terminal.
  // Each line read prints the size again, until "q".
  Bundle b = terminal_bundle(
      "tty; stty size; while read line; do echo got:$line; stty size; "
      "[ \"$line\" = q ] && exit 4; done");
  PtyProcess p;
  ASSERT_NO_FATAL_FAILURE(spawn_on_pty(p, {"run", "--bundle", b.dir, "c1"}, 33, 77));
  std::string out = read_until(p.master, "33 77");
  EXPECT_TRUE(std::regex_search(out, kPtsLine)) << out;
  EXPECT_NE(out.find("33 77"), std::string::npos) << out;
  write_str(p.master, "relayed\n");
  out = read_until(p.master, "got:relayed");
  EXPECT_NE(out.find("got:relayed"), std::string::npos) << out;

  // A resize of the caller's terminal (SIGWINCH to urun) reaches the container's pty. The
  // signal and the next line race, so lines are sent until the new size shows.
  winsize ws{};
  ws.ws_row = 50;
  ws.ws_col = 150;
  ASSERT_EQ(::ioctl(p.master, TIOCSWINSZ, &ws), 0);
  std::string resized;
  for (int i = 0; i < 50 && resized.find("50 150") == std::string::npos; ++i) {
    write_str(p.master, "x\n");
    resized += read_until(p.master, "50 150", milliseconds(200));
  }
  EXPECT_NE(resized.find("50 150"), std::string::npos) << resized;
  write_str(p.master, "q\n");
  EXPECT_EQ(p.wait(), 4);
  // The caller's terminal is back in its normal (cooked, echoing) mode.
  termios t{};
  ASSERT_EQ(::tcgetattr(p.slave, &t), 0);
  EXPECT_TRUE(t.c_lflag & ICANON);
  EXPECT_TRUE(t.c_lflag & ECHO);
  EXPECT_TRUE(state_entries().empty());
}

TEST_P(Terminal, ForegroundExecTtyRelaysTheTerminal) {
  start_sleeper();
  PtyProcess p;
  ASSERT_NO_FATAL_FAILURE(spawn_on_pty(
      p, {"exec", "-t", "c1", "sh", "-c", "tty; stty size; read line; echo got:$line; exit 6"}, 21,
      64));
  std::string out = read_until(p.master, "21 64");
  EXPECT_TRUE(std::regex_search(out, kPtsLine)) << out;
  EXPECT_NE(out.find("21 64"), std::string::npos) << out;
  write_str(p.master, "again\n");
  out = read_until(p.master, "got:again");
  EXPECT_NE(out.find("got:again"), std::string::npos) << out;
  EXPECT_EQ(p.wait(), 6);
  EXPECT_EQ(rt().status("c1"), "running");
}

TEST_P(Terminal, ListenFdsArePassedWithTheirEnvironment) {
  Bundle b = make_bundle();
  b.sh("echo env: $LISTEN_FDS $LISTEN_PID; cat <&3; cat <&4; " + kShellFds);
  b.save();
  write_file(dir() + "/listen.txt", "from-listen-fd\n");
  write_file(dir() + "/preserved.txt", "from-preserved-fd\n");
  // fd 3 is the activation socket's place; --preserve-fds 1 adds fd 4 after it.
  std::string cmd = "exec 3<'" + dir() + "/listen.txt' 4<'" + dir() +
                    "/preserved.txt'; LISTEN_FDS=1 exec '" + world().runtime() + "' --root '" +
                    rt().state_root() + "' run --preserve-fds 1 --bundle '" + b.dir + "' c1";
  Result r = run_as(identity(), {"sh", "-c", cmd}, dir() + "/io");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  if (is_runc()) {
    // runc honours LISTEN_FDS only when LISTEN_PID names it; fd 3 still passes
    // as preserved.
    GTEST_SKIP() << "runc checks LISTEN_PID: " << r.out;
  }
  EXPECT_TRUE(r.out.starts_with("env: 1 1\nfrom-listen-fd\nfrom-preserved-fd\n")) << r.out;
  EXPECT_EQ(listed_fds(r.out), "0 1 2 3 4") << r.out;
}

URUN_IT_INSTANTIATE(Terminal);

}  // namespace
}  // namespace urun_it
