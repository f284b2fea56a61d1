#include "container/process_io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/unique_fd.hpp"
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

ReservedFds::ReservedFds(int count) {
  for (int fd = 3; fd < 3 + count; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0) throw_errno("open `/dev/null`");
    if (null != fd) {
      // Lower free fds are taken first, so `null` is above `fd`: move it down.
      int moved = ::dup3(null, fd, O_CLOEXEC);
      ::close(null);
      if (moved < 0) throw_errno("reserve fd " + std::to_string(fd));
    }
    fds_.push_back(fd);
  }
}

ReservedFds::~ReservedFds() {
  for (int fd : fds_) ::close(fd);
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

// A closed stdout must end in EPIPE from write(), not in our death with the
// caller's terminal left raw: SIGPIPE is blocked while this lives.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    ::sigprocmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  }
  ~SigpipeBlocked() {
    // A SIGPIPE left pending would kill us the moment it is unblocked.
    timespec zero{};
    while (::sigtimedwait(&pipe_set_, nullptr, &zero) == SIGPIPE) {
    }
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_set_, old_mask_;
};

// Copies between the caller's terminal and the pty master, forwards signals to the process
// and reaps it: the state of one wait_relaying_terminal.
class TerminalRelay {
 public:
  TerminalRelay(pid_t pid, int master, const sigset_t& set, const std::string& what)
      : pid_(pid), master_(master), what_(what) {
    signals_ = UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_) throw_errno("create a signalfd to wait for " + what);
  }

  std::optional<int> status() const { return status_; }

  void reap() {
    int st;
    pid_t r;
    while ((r = ::waitpid(-1, &st, WNOHANG)) > 0)
      if (r == pid_) status_ = exit_status(st);
    if (r < 0 && errno != ECHILD && errno != EINTR) throw_errno("wait for " + what_);
  }

  // Until the process has exited and its pty is drained (or closed).
  void relay() {
    for (;;) {
      if (status_ && !master_open_) return;
      pollfd fds[3];
      nfds_t n = 0;
      fds[n++] = {signals_.get(), POLLIN, 0};
      int master_at = -1, input_at = -1;
      if (master_open_) {
        master_at = static_cast<int>(n);
        fds[n++] = {master_, POLLIN, 0};
      }
      if (input_open_ && master_open_ && !status_) {
        input_at = static_cast<int>(n);
        fds[n++] = {STDIN_FILENO, POLLIN, 0};
      }
      // Once the process exited, only what it left in the pty is still read.
      int ready = ::poll(fds, n, status_ ? 0 : -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw_errno("poll the terminal of " + what_);
      }
      if (ready == 0) return;
      if (fds[0].revents & POLLIN) forward_signals();
      if (master_at >= 0 && fds[master_at].revents) copy_output();
      if (input_at >= 0 && fds[input_at].revents) copy_input();
    }
  }

 private:
  void forward_signals() {
    signalfd_siginfo info;
    while (::read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      int sig = static_cast<int>(info.ssi_signo);
      if (sig == SIGCHLD) {
        reap();
      } else if (sig == SIGWINCH) {
        // The kernel signals the pty's foreground group itself on resize.
        if (stdin_tty_)
          if (auto size = linux::window_size(STDIN_FILENO)) linux::set_window_size(master_, *size);
      } else {
        ::kill(pid_, sig);
      }
    }
  }

  void copy_output() {
    ssize_t got = ::read(master_, buf_, sizeof buf_);
    if (got > 0) {
      // A reader that went away loses the output; the process still runs on.
      fs::write_all(STDOUT_FILENO, std::string_view(buf_, static_cast<size_t>(got)));
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      master_open_ = false;  // EIO: every slave fd is closed
    }
  }

  void copy_input() {
    ssize_t got = ::read(STDIN_FILENO, buf_, sizeof buf_);
    if (got > 0) {
      if (!fs::write_all(master_, std::string_view(buf_, static_cast<size_t>(got))))
        master_open_ = false;
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      input_open_ = false;
    }
  }

  pid_t pid_;
  int master_;
  const std::string& what_;
  UniqueFd signals_;
  const bool stdin_tty_ = ::isatty(STDIN_FILENO) == 1;
  std::optional<int> status_;
  bool input_open_ = true, master_open_ = true;
  char buf_[16384];
};

}  // namespace

int wait_relaying_terminal(pid_t pid, int master, const sigset_t& set, const std::string& what) {
  SigpipeBlocked no_sigpipe;
  TerminalRelay relay(pid, master, set, what);
  linux::RawMode raw(STDIN_FILENO);
  relay.reap();
  relay.relay();
  // The master is closed (or drained) but the process may not be reaped yet.
  while (!relay.status()) {
    siginfo_t info;
    relay.reap();
    if (relay.status()) break;
    int sig = ::sigwaitinfo(&set, &info);
    if (sig > 0 && sig != SIGCHLD && sig != SIGWINCH) ::kill(pid, sig);
  }
  return *relay.status();
}

}  // namespace urun::container
