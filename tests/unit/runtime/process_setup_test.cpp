// The child-side steps that keep a process inside its container: fds closed before the cwd
// is resolved, no cwd through a /proc magic link.
#include "runtime/process_setup.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>

#include "common/error.hpp"
#include "in_child.hpp"
#include "temp_dir.hpp"

namespace urun::runtime {
namespace {

using urun_test::in_child;

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(CloseFdsFrom, ClosesAllButTheKeptOnes) {
  int code = in_child([] {
    int fds[6];
    for (int& fd : fds) fd = ::open("/dev/null", O_RDONLY);
    for (int fd : fds)
      if (fd < 3) return 1;
    close_fds_from(fds[1], {fds[3], -1, fds[5], 2});
    if (!is_open(fds[0])) return 2;  // below `first`
    if (is_open(fds[1]) || is_open(fds[2]) || is_open(fds[4])) return 3;
    if (!is_open(fds[3]) || !is_open(fds[5])) return 4;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(EnterCwd, EntersAPlainDirectory) {
  urun_test::TempDir tmp;
  int code = in_child([&] {
    enter_cwd(tmp.path());
    char buf[4096];
    return ::getcwd(buf, sizeof buf) && std::string(buf) == tmp.path() ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

// /proc/self/fd/N names whatever directory the fd is open on, in or out of the root.
TEST(EnterCwd, RefusesAMagicLink) {
  urun_test::TempDir tmp;
  ASSERT_EQ(::mkdir((tmp.path() + "/d").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/proc/self/fd/9", (tmp.path() + "/link").c_str()), 0);
  int code = in_child([&] {
    int dir = ::open((tmp.path() + "/d").c_str(), O_RDONLY | O_DIRECTORY);
    if (dir < 0 || ::dup2(dir, 9) != 9) return 1;
    for (const std::string& path : {std::string("/proc/self/fd/9"), tmp.path() + "/link"}) {
      try {
        enter_cwd(path);
        return 2;
      } catch (const Error& e) {
        if (e.code() != ELOOP) return 3;
        if (e.message().find(path) == std::string::npos) return 4;
      }
    }
    return 0;
  });
  EXPECT_EQ(code, 0);
}

// Without openat2 (old kernels, or a seccomp filter urun runs under) the path is followed by
// chdir, and getcwd()'s "(unreachable)" is what stops a cwd outside the root. Root only: it
// needs a chroot with a /proc, made in a private mount namespace of a child.
TEST(EnterCwd, WithoutOpenat2ACwdOutsideTheRootIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace and chroot";
  urun_test::TempDir tmp;
  const std::string root = tmp.path() + "/root";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/proc").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/inside").c_str(), 0755), 0);
  int code = in_child([&] {
    if (::unshare(CLONE_NEWNS) < 0) return 1;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return 2;
    if (::mount("/proc", (root + "/proc").c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      return 3;
    int outside = ::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY);
    if (outside < 0 || ::dup2(outside, 9) != 9) return 4;
    if (::chroot(root.c_str()) < 0 || ::chdir("/") < 0) return 5;
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) return 6;
    enter_cwd("/inside");  // the fallback still enters a directory inside
    try {
      enter_cwd("/proc/self/fd/9");
      return 7;
    } catch (const Error& e) {
      if (e.message().find("outside the container's root") == std::string::npos) return 8;
    }
    return 0;
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace urun::runtime
