#pragma once
// Kills (SIGKILL) and reaps a child process unless release() was called once
// set-up succeeded: a failed create never leaves a half-made container behind.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <utility>

namespace urun {

class ChildGuard {
 public:
  ChildGuard() = default;
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(ChildGuard&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  ChildGuard& operator=(ChildGuard&& o) noexcept {
    if (this != &o) {
      kill_and_reap();
      pid_ = std::exchange(o.pid_, -1);
    }
    return *this;
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() { kill_and_reap(); }

  pid_t pid() const { return pid_; }
  pid_t release() { return std::exchange(pid_, -1); }
  void reset(pid_t pid) {
    kill_and_reap();
    pid_ = pid;
  }

  void kill_and_reap() noexcept {
    if (pid_ <= 0) return;
    int saved = errno;
    ::kill(pid_, SIGKILL);
    // Not our child when the init was forked by an intermediate process: then
    // waitpid fails with ECHILD and whoever is its parent reaps it.
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    errno = saved;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace urun
