// The keeper process: starts the network helper, reports, and stops the helper when the
// container's init exits (helper.hpp). It is a fork of urun that never returns into urun's
// code: everything here ends in _exit, and nothing throws out of run_keeper.
#include "network/keeper.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace urun::network {
namespace {

constexpr int kReadyTimeoutMs = 10000;
constexpr int kStopTimeoutMs = 2000;

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Closes every fd but those in keep (which stay where they are).
void close_all_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned first = 0;
  for (int fd : keep) {
    if (fd < 0) continue;
    if (static_cast<unsigned>(fd) > first) ::syscall(SYS_close_range, first, fd - 1, 0);
    first = fd + 1;
  }
  ::syscall(SYS_close_range, first, ~0U, 0);
}

// urun may have blocked signals (run forwards them) or installed handlers: neither may reach
// the keeper or the helper.
void reset_signals() {
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The last non-empty line of the helper's log: its own account of a failure.
std::string log_tail() {
  UniqueFd fd(::open(kHelperLog, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return "";
  char buf[4096];
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  off_t from = size > static_cast<off_t>(sizeof buf) ? size - sizeof buf : 0;
  ssize_t n = ::pread(fd.get(), buf, sizeof buf, from);
  std::string text(buf, n > 0 ? n : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

std::string exit_description(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
  return "stopped";
}

// "<helper> exited with status 1: <its last log line>".
std::string failure(const std::string& name, int status) {
  std::string tail = log_tail();
  return name + " " + exit_description(status) + (tail.empty() ? "" : ": " + tail);
}

void report(int fd, const std::string& line) {
  std::string text = line;
  for (char& c : text)
    if (c == '\n') c = ' ';
  text += '\n';
  (void)!::write(fd, text.data(), text.size());
}

// The helper, exec'd in a child of the keeper. fds: what it gets as 3, 4, ... in order.
[[noreturn]] void exec_helper(const KeeperPlan& p, const std::vector<char*>& argv,
                              std::vector<int> fds, pid_t keeper, bool tie_to_keeper) {
  // slirp4netns stays the keeper's child: it dies with it. (pasta forks away; the keeper is
  // its subreaper instead.)
  if (tie_to_keeper) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != keeper) ::_exit(1);
  // The keeper ignores SIGPIPE, and an ignored signal stays ignored across exec (pasta even
  // refuses to start then).
  ::signal(SIGPIPE, SIG_DFL);
  for (int& fd : fds) fd = ::fcntl(fd, F_DUPFD, 10);  // clear of 0..9 before the dup2s below
  ::dup2(p.null_fd, 0);
  ::dup2(p.log_fd, 1);
  ::dup2(p.log_fd, 2);
  for (size_t i = 0; i < fds.size(); ++i) ::dup2(fds[i], 3 + static_cast<int>(i));
  ::syscall(SYS_close_range, 3 + fds.size(), ~0U, 0);
  ::execv(argv[0], argv.data());
  std::string msg = std::string("exec ") + argv[0] + ": " + std::strerror(errno) + "\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(127);
}

// Polls fd for input until timeout_ms; false on timeout.
bool wait_readable(int fd, int timeout_ms) {
  pollfd pfd{fd, POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Kills the helper (the signal first, SIGKILL after the timeout) and reaps it.
void stop(pid_t pid, int helper_pidfd, int first_signal) {
  if (first_signal != 0) ::kill(pid, first_signal);
  if (first_signal != SIGKILL &&
      !(helper_pidfd >= 0 && wait_readable(helper_pidfd, kStopTimeoutMs)))
    ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// slirp4netns answers only "slirp_add_hostfwd failed": binding the address ourselves finds
// out why (usually EADDRINUSE, or EADDRNOTAVAIL for an address the host does not have).
std::string bind_problem(const PortMapping& port) {
  sockaddr_storage ss{};
  socklen_t len;
  if (port.ipv6()) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port.host_port);
    ::inet_pton(AF_INET6, port.host_addr.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port.host_port);
    ::inet_pton(AF_INET, port.host_addr.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  UniqueFd fd(::socket(ss.ss_family, (port.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!fd) return "";
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return std::strerror(errno);
  return "";
}

// One add_hostfwd request on a connection of its own ("" on success).
std::string publish(const PortMapping& port) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return std::string("socket: ") + std::strerror(errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, kApiSocket, sizeof addr.sun_path - 1);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return std::string("connect to the slirp4netns API socket: ") + std::strerror(errno);
  std::string req = hostfwd_request(port);
  if (::write(sock.get(), req.data(), req.size()) != static_cast<ssize_t>(req.size()))
    return std::string("write to the slirp4netns API socket: ") + std::strerror(errno);
  ::shutdown(sock.get(), SHUT_WR);
  std::string reply;
  char buf[1024];
  while (wait_readable(sock.get(), kReadyTimeoutMs)) {
    ssize_t n = ::read(sock.get(), buf, sizeof buf);
    if (n <= 0) break;
    reply.append(buf, n);
  }
  std::string err = hostfwd_reply_error(reply);
  if (!err.empty()) {
    std::string why = bind_problem(port);
    if (!why.empty()) err += " (" + why + ")";
  }
  return err;
}

// slirp4netns: started, ready, ports published. "" and its pid, or the error.
std::string start_slirp4netns(const KeeperPlan& p, const std::vector<char*>& argv, int exit_r,
                              int exit_w, pid_t& pid) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t keeper = ::getpid();
  pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) exec_helper(p, argv, {exit_r, ready[1]}, keeper, true);
  ::close(ready[1]);
  ::close(exit_r);
  UniqueFd ready_r(ready[0]);
  char c = 0;
  // "1" once configured and the API socket listens; EOF without it: it failed.
  bool ok = wait_readable(ready_r.get(), kReadyTimeoutMs) && ::read(ready_r.get(), &c, 1) == 1 &&
            c == '1';
  if (!ok) {
    int status = 0;
    bool exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return "slirp4netns did not get ready within " + std::to_string(kReadyTimeoutMs / 1000) +
             " s" + (log_tail().empty() ? "" : ": " + log_tail());
    }
    return failure("slirp4netns", status);
  }
  for (const PortMapping& port : p.ports) {
    std::string err = publish(port);
    if (!err.empty()) {
      ::close(exit_w);  // slirp4netns exits on the hang-up; SIGKILL if it lingers
      stop(pid, -1, SIGKILL);
      return "publish port " + port.to_string() + ": " + err;
    }
  }
  return "";
}

// pasta: its first process exits 0 once the namespace is configured and the ports are bound,
// leaving its daemon, whose pid it wrote to its pid file.
std::string start_pasta(const KeeperPlan& p, const std::vector<char*>& argv, pid_t& pid) {
  const pid_t keeper = ::getpid();
  pid_t first = ::fork();
  if (first < 0) return std::string("fork: ") + std::strerror(errno);
  if (first == 0) exec_helper(p, argv, {}, keeper, false);
  int status = 0;
  UniqueFd first_fd(pidfd_open(first));
  if (first_fd && !wait_readable(first_fd.get(), kReadyTimeoutMs)) {
    ::kill(first, SIGKILL);
    ::waitpid(first, nullptr, 0);
    return "pasta did not get ready within " + std::to_string(kReadyTimeoutMs / 1000) + " s";
  }
  while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return failure("pasta", status);
  UniqueFd fd(::open(kPastaPidFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  char buf[32] = {};
  ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
  pid = n > 0 ? static_cast<pid_t>(std::strtol(buf, nullptr, 10)) : 0;
  if (pid <= 0) return "pasta wrote no pid to " + quote(kPastaPidFile);
  return "";
}

}  // namespace

[[noreturn]] void run_keeper(const KeeperPlan& p) noexcept {
  try {
    ::setsid();  // a terminal's ^C or hang-up for urun's group is not the container's end
    ::prctl(PR_SET_NAME, "urun-network");
    // pasta's daemon becomes our child when its first process exits: we can reap and kill it.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    reset_signals();
    ::signal(SIGPIPE, SIG_IGN);  // urun gone before our report: carry on, the init decides
    close_all_except({p.init_pidfd, p.report_fd, p.cwd_fd, p.log_fd, p.null_fd});
    ::dup2(p.null_fd, 0);
    ::dup2(p.null_fd, 1);
    ::dup2(p.null_fd, 2);
    if (::fchdir(p.cwd_fd) < 0) {
      report(p.report_fd, std::string("error enter the state directory: ") + std::strerror(errno));
      ::_exit(1);
    }
    std::vector<char*> argv;
    for (const std::string& a : p.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    int exit_pipe[2] = {-1, -1};
    if (p.mode == Mode::slirp4netns && ::pipe2(exit_pipe, O_CLOEXEC) < 0) {
      report(p.report_fd, std::string("error pipe: ") + std::strerror(errno));
      ::_exit(1);
    }
    pid_t helper = 0;
    std::string err = p.mode == Mode::slirp4netns
                          ? start_slirp4netns(p, argv, exit_pipe[0], exit_pipe[1], helper)
                          : start_pasta(p, argv, helper);
    if (!err.empty()) {
      report(p.report_fd, "error " + err);
      ::_exit(1);
    }
    UniqueFd helper_fd(pidfd_open(helper));
    report(p.report_fd, "ok " + std::to_string(helper));
    ::close(p.report_fd);
    // Until the init exits (or the helper does).
    pollfd fds[2] = {{p.init_pidfd, POLLIN, 0}, {helper_fd.get(), POLLIN, 0}};
    while (::poll(fds, helper_fd ? 2 : 1, -1) < 0 && errno == EINTR) {
    }
    if (p.mode == Mode::slirp4netns) {
      ::close(exit_pipe[1]);  // slirp4netns's --exit-fd: it exits on the hang-up
      stop(helper, helper_fd.get(), 0);
    } else {
      stop(helper, helper_fd.get(), SIGTERM);
    }
  } catch (...) {
    // Nothing of urun's may run on after this point: out, the helper dies with us (slirp4netns)
    // or is killed by delete (pasta).
  }
  ::_exit(0);
}

pid_t parse_report(const std::string& line) {
  if (line.starts_with("ok ")) {
    long pid = std::strtol(line.c_str() + 3, nullptr, 10);
    if (pid > 0) return static_cast<pid_t>(pid);
  }
  if (line.starts_with("error ")) throw Error(line.substr(6), EIO);
  throw Error("the network helper's keeper ended without a report", EIO);
}

}  // namespace urun::network
