#pragma once
// Runs a test body in a forked child, for tests that change process-wide
// state (ids, capabilities, limits) that must not leak into the test runner.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

namespace urun_test {

// The child's exit code is body()'s return value; 98 when it threw, and
// 100 + signal when it died from one.
template <typename F>
int in_child(F body) {
  pid_t pid = fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (const std::exception& e) {
      fprintf(stderr, "child: %s\n", e.what());
      code = 98;
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

}  // namespace urun_test
