#pragma once
// Runs test code in a forked child: in_child() for a body that changes process-wide state (ids,
// capabilities, limits, the log's destination) that must not leak into the test runner;
// Child for a peer that runs while the test goes on (the other end of a socket).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <stdexcept>

namespace urun_test {

// A forked child running body() (returning int); its exit code is body()'s return value, 98
// when it threw, and 100 + signal when it died from one. Killed and reaped if the test ends
// without wait().
class Child {
 public:
  template <typename F>
  explicit Child(F body) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int code = 99;
      try {
        code = body();
      } catch (const std::exception& e) {
        fprintf(stderr, "child: %s\n", e.what());
        code = 98;
      }
      _exit(code);
    }
  }
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // The exit code as above (-1 when already waited for).
  int wait() {
    if (pid_ <= 0) return -1;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0)
      if (errno != EINTR) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

// Runs body() in a forked child and returns its exit code (as Child::wait()).
template <typename F>
int in_child(F body) {
  return Child(body).wait();
}

}  // namespace urun_test
