// urun-bench-timer OUT COMMAND [ARG...]: runs COMMAND, waits for it and writes
// "<wall microseconds> <peak RSS KiB>" to OUT; exits with the command's status
// (128 + the signal when it was killed), as a shell would report it.
//
// The benchmarks start it through what makes the mode (setpriv and env for the
// unprivileged user), so that the time is of the runtime alone: from just
// before the spawn to the reap, as a user's shell would see it, and not of the
// wrappers, which would add the same few milliseconds to every row and pull
// every ratio towards 1. The peak RSS is wait4's ru_maxrss, the largest
// resident set of the command and the descendants it waited for: what
// /usr/bin/time's %M reports.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

extern char** environ;

namespace {

long long now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT COMMAND [ARG...]\n", argv[0]);
    return 2;
  }
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::fprintf(stderr, "%s: open %s: %s\n", argv[0], argv[1], std::strerror(errno));
    return 2;
  }
  const long long start = now_us();
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, argv[2], nullptr, nullptr, argv + 2, environ);
  if (err != 0) {
    std::fprintf(stderr, "%s: run %s: %s\n", argv[0], argv[2], std::strerror(err));
    return 127;
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "%s: wait for %s: %s\n", argv[0], argv[2], std::strerror(errno));
      return 2;
    }
  }
  const long long end = now_us();
  std::fprintf(out, "%lld %ld\n", end - start, usage.ru_maxrss);
  if (std::fclose(out) != 0) return 2;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
