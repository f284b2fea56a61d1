#include "container/process_io.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/scope_exit.hpp"
#include "linux/terminal.hpp"

namespace urun::container {

void write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return;
  std::string tmp = path + ".urun-tmp";
  fs::write_file(tmp, std::to_string(pid), 0644);
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_errno("write pid file " + quote(path), err);
  }
}

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD})
    sigaddset(&set, sig);
  return set;
}

int wait_forwarding_signals(pid_t pid, const sigset_t& set, const std::string& what) {
  for (;;) {
    int status;
    pid_t r;
    while ((r = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (r != pid) continue;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR) throw_errno("wait for " + what);
    siginfo_t info;
    int sig = ::sigwaitinfo(&set, &info);
    if (sig > 0 && sig != SIGCHLD) ::kill(pid, sig);
  }
}

namespace {

std::optional<int> exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return std::nullopt;
}

}  // namespace

int wait_relaying_terminal(pid_t pid, int master, const sigset_t& set, const std::string& what) {
  // A closed stdout must end in EPIPE from write(), not in our death with the
  // caller's terminal left raw.
  sigset_t pipe_set, old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::sigprocmask(SIG_BLOCK, &pipe_set, &old_mask);
  ScopeExit restore_mask([&] {
    // A SIGPIPE left pending would kill us the moment it is unblocked.
    timespec zero{};
    while (::sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  });

  UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) throw_errno("create a signalfd to wait for " + what);
  const bool stdin_tty = ::isatty(STDIN_FILENO) == 1;
  linux::RawMode raw(STDIN_FILENO);

  std::optional<int> status;
  auto reap = [&] {
    int st;
    pid_t r;
    while ((r = ::waitpid(-1, &st, WNOHANG)) > 0)
      if (r == pid) status = exit_status(st);
    if (r < 0 && errno != ECHILD && errno != EINTR) throw_errno("wait for " + what);
  };
  reap();

  bool input_open = true, master_open = true;
  char buf[16384];
  for (;;) {
    if (status && !master_open) break;
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {signals.get(), POLLIN, 0};
    int master_at = -1, input_at = -1;
    if (master_open) {
      master_at = static_cast<int>(n);
      fds[n++] = {master, POLLIN, 0};
    }
    if (input_open && master_open && !status) {
      input_at = static_cast<int>(n);
      fds[n++] = {STDIN_FILENO, POLLIN, 0};
    }
    // Once the process exited, only what it left in the pty is still read.
    int ready = ::poll(fds, n, status ? 0 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll the terminal of " + what);
    }
    if (ready == 0) break;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(signals.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
          reap();
        } else if (sig == SIGWINCH) {
          // The kernel signals the pty's foreground group itself on resize.
          if (stdin_tty)
            if (auto size = linux::window_size(STDIN_FILENO)) linux::set_window_size(master, *size);
        } else {
          ::kill(pid, sig);
        }
      }
    }
    if (master_at >= 0 && fds[master_at].revents) {
      ssize_t got = ::read(master, buf, sizeof buf);
      if (got > 0) {
        // A reader that went away loses the output; the process still runs on.
        fs::write_all(STDOUT_FILENO, std::string_view(buf, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        master_open = false;  // EIO: every slave fd is closed
      }
    }
    if (input_at >= 0 && fds[input_at].revents) {
      ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
      if (got > 0) {
        if (!fs::write_all(master, std::string_view(buf, static_cast<size_t>(got))))
          master_open = false;
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        input_open = false;
      }
    }
  }
  // The master is closed (or drained) but the process may not be reaped yet.
  while (!status) {
    siginfo_t info;
    reap();
    if (status) break;
    int sig = ::sigwaitinfo(&set, &info);
    if (sig > 0 && sig != SIGCHLD && sig != SIGWINCH) ::kill(pid, sig);
  }
  return *status;
}

}  // namespace urun::container
