#include "runtime/hooks.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace urun::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Everything the forked child needs, prepared before fork so the child only
// makes async-signal-safe calls.
struct ChildSetup {
  const char* path;
  char* const* argv;
  char* const* envp;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int error_fd;  // write end of the CLOEXEC pipe that reports a failed exec
};

[[noreturn]] void report_and_exit(int error_fd, int err) noexcept {
  ssize_t ignored = ::write(error_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

// Marks every fd >= 3 close-on-exec. urun opens all its fds O_CLOEXEC, but a
// library or an inherited fd might not be; a hook must never see them.
void cloexec_from_3() noexcept {
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Kernels before 5.11: walk a bounded range (no allocation here, we are
  // between fork and exec).
  long max = ::sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

[[noreturn]] void exec_hook_child(const ChildSetup& s) noexcept {
  // Move the three sources above 2 first: one of them may itself be 0, 1 or 2
  // (e.g. stderr_fd == 2), and dup2 onto itself would keep its CLOEXEC flag.
  int in = ::fcntl(s.stdin_fd, F_DUPFD_CLOEXEC, 3);
  int out = ::fcntl(s.stdout_fd, F_DUPFD_CLOEXEC, 3);
  int err = ::fcntl(s.stderr_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || err < 0) report_and_exit(s.error_fd, errno);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
    report_and_exit(s.error_fd, errno);
  }
  cloexec_from_3();

  // Signal dispositions set to "ignore" and the signal mask survive execve;
  // the hook should start as any freshly started program does.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Its own process group, so a timeout kills what the hook started too.
  ::setpgid(0, 0);

  ::execve(s.path, s.argv, s.envp);
  report_and_exit(s.error_fd, errno);
}

// Ignores SIGPIPE while we feed the hook's stdin: a hook that exits without
// reading it must make write() fail with EPIPE, not kill urun.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &old_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction old_ {};
};

std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// A started hook. Until it has been reaped, destroying this kills its process group and
// reaps it, so no hook outlives a failed run.
struct HookChild {
  pid_t pid = -1;
  bool reaped = false;
  UniqueFd stdin_write;  // the hook's stdin
  UniqueFd error_read;   // EOF once execve succeeded, else the errno that says why not
  HookChild() = default;
  HookChild(const HookChild&) = delete;
  HookChild& operator=(const HookChild&) = delete;
  ~HookChild() {
    if (pid <= 0 || reaped) return;
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
};

// Forks the hook with its stdin a pipe, stdout `io.stdout_fd` (else /dev/null) and stderr
// `io.stderr_fd` (else urun's). `child.pid` is set as soon as the fork succeeded.
void start_hook(const spec::Hook& hook, const HookIo& io, HookChild& child) {
  std::vector<std::string> args =
      hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<std::string> env = hook.env;
  std::vector<char*> argv = c_array(args);
  std::vector<char*> envp = c_array(env);

  int stdin_pipe[2];
  if (::pipe2(stdin_pipe, O_CLOEXEC) != 0) throw_errno("create stdin pipe");
  UniqueFd stdin_read(stdin_pipe[0]);
  child.stdin_write.reset(stdin_pipe[1]);
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw_errno("create error pipe");
  child.error_read.reset(error_pipe[0]);
  UniqueFd error_write(error_pipe[1]);

  UniqueFd dev_null;
  int stdout_fd = io.stdout_fd;
  if (stdout_fd < 0) {
    dev_null.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (!dev_null) throw_errno("open " + quote("/dev/null"));
    stdout_fd = dev_null.get();
  }
  int stderr_fd = io.stderr_fd >= 0 ? io.stderr_fd : STDERR_FILENO;

  ChildSetup setup{hook.path.c_str(), argv.data(), envp.data(),      stdin_read.get(),
                   stdout_fd,         stderr_fd,   error_write.get()};
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) exec_hook_child(setup);
  child.pid = pid;
}

// The pipe reaches EOF when execve succeeds (CLOEXEC); otherwise the child sends the
// errno that says why, which this throws.
void check_exec(HookChild& child) {
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(child.error_read.get(), &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    throw Error(std::strerror(exec_errno), exec_errno);
  }
  child.error_read.reset();
}

// Writes what the hook's stdin takes of `pending`; closes it (EOF for the hook) once all
// is written or the hook does not read it.
void feed_stdin(HookChild& child, std::string_view& pending) {
  ssize_t w = ::write(child.stdin_write.get(), pending.data(), pending.size());
  if (w > 0) {
    pending.remove_prefix(static_cast<size_t>(w));
  } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
    // EPIPE: the hook does not read its stdin. That is its right; its
    // exit status alone decides whether it failed.
    pending = {};
  }
  if (pending.empty()) child.stdin_write.reset();
}

// Feeds `pending` (the state) to the hook's stdin while waiting for it to exit; returns
// its wait status. Throws when the timeout (seconds; absent or 0: none) passes first.
int feed_and_wait(HookChild& child, std::string_view pending, std::optional<int> timeout) {
  // The pidfd wakes poll() the moment the hook exits; without it (kernels
  // before 5.3) we poll waitpid every 10 ms.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)));
  IgnoreSigpipe ignore_sigpipe;
  if (!pending.empty()) {
    // Non-blocking, so a hook that never reads a large state cannot hold us
    // past its timeout.
    int flags = ::fcntl(child.stdin_write.get(), F_GETFL);
    if (flags < 0 || ::fcntl(child.stdin_write.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
      throw_errno("set hook stdin non-blocking");
    }
  } else {
    child.stdin_write.reset();
  }
  std::optional<Clock::time_point> deadline;
  if (timeout && *timeout > 0) deadline = Clock::now() + std::chrono::seconds(*timeout);

  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(child.pid, &status, WNOHANG);
    if (r == child.pid) break;
    if (r < 0 && errno != EINTR) throw_errno("wait for hook");

    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        throw Error("timed out after " + std::to_string(*timeout) + " seconds", ETIMEDOUT);
      }
      wait_ms = static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30));
    }
    if (!pidfd) wait_ms = wait_ms < 0 ? 10 : std::min(wait_ms, 10);

    pollfd fds[2];
    nfds_t count = 0;
    int stdin_index = -1;
    if (pidfd) fds[count++] = {pidfd.get(), POLLIN, 0};
    if (child.stdin_write) {
      stdin_index = static_cast<int>(count);
      fds[count++] = {child.stdin_write.get(), POLLOUT, 0};
    }
    if (::poll(fds, count, wait_ms) < 0) {
      if (errno == EINTR) continue;
      throw_errno("wait for hook");
    }
    if (stdin_index >= 0 && fds[stdin_index].revents != 0) feed_stdin(child, pending);
  }
  child.reaped = true;
  return status;
}

// Runs one hook; throws Error with the reason only (run_hook adds "<kind> hook `path`").
void run_hook_process(const spec::Hook& hook, const std::string& state_json, const HookIo& io) {
  HookChild child;
  start_hook(hook, io, child);
  check_exec(child);
  const int status = feed_and_wait(child, state_json, hook.timeout);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    throw Error("exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  if (WIFSIGNALED(status)) {
    throw Error("killed by signal " + std::to_string(WTERMSIG(status)));
  }
}

}  // namespace

void run_hook(std::string_view kind, const spec::Hook& hook, const std::string& state_json,
              const HookIo& io) {
  try {
    run_hook_process(hook, state_json, io);
  } catch (Error& e) {
    e.prepend(std::string(kind) + " hook " + quote(hook.path));
    throw;
  }
}

void run_hooks(std::string_view kind, const std::vector<spec::Hook>& hooks,
               const std::string& state_json, const HookIo& io) {
  for (const auto& hook : hooks) run_hook(kind, hook, state_json, io);
}

}  // namespace urun::runtime
