// The child-side steps that keep a process inside its container: fds closed before the cwd
// is resolved, no cwd through a /proc magic link.
#include "runtime/process_setup.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

}  // namespace
}  // namespace urun::runtime
