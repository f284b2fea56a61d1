// syscall-probe NR...: makes each raw syscall NR with zero arguments and prints "NR=ERRNO" (0 when
// it succeeded), for tests of seccomp filters inside a container: busybox cannot make a syscall
// by number. Linked statically, as the test rootfs has no dynamic loader.
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    long nr = std::strtol(argv[i], nullptr, 0);
    long rc = ::syscall(nr, 0, 0, 0, 0, 0, 0);
    std::printf("%s=%d\n", argv[i], rc == -1 ? errno : 0);
  }
  return 0;
}
