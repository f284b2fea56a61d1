// adopt_executable for real, in a forked child of this test binary: the child moves onto a
// detached read-only bind mount of its own executable (as urun does as root) and must go on
// working with its data intact, its /proc/self/exe leading to the read-only mount. Needs
// CAP_SYS_ADMIN for the mount: skipped otherwise, saying so.
#include "linux/executable_image.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/mount.h>
#include <sys/capability.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "in_child.hpp"

namespace {

using urun::linux::adopt_executable;
using urun_test::in_child;

// Written before the move, read after: a private page of .data and one of .bss.
int g_data_marker = 1;
int g_bss_marker;

std::string own_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// A detached read-only bind mount of our own executable, opened for reading; -1 when this
// process may not make one.
int read_only_copy_of_self() {
  const int tree = static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (tree < 0) return -1;
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return -1;
  const std::string path = "/proc/self/fd/" + std::to_string(tree);
  const int file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ::close(tree);
  return file;
}

bool can_make_read_only_copy() {
  return in_child([] { return read_only_copy_of_self() >= 0 ? 0 : 1; }) == 0;
}

bool maps_mention(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.size() >= path.size() &&
        line.compare(line.size() - path.size(), path.size(), path) == 0)
      return true;
  return false;
}

// What a moved image must still do: its written data kept, code reached through relocated
// pointers (std::function, a vtable), an exception unwound through the moved .eh_frame.
int still_works() {
  if (g_data_marker != 42 || g_bss_marker != 43) return 20;
  std::function<int(int)> twice = [](int x) { return 2 * x; };
  if (twice(21) != 42) return 21;
  try {
    throw std::runtime_error("unwound");
  } catch (const std::exception& e) {
    if (std::string(e.what()) != "unwound") return 22;
  }
  return 0;
}

TEST(AdoptExecutable, MovesTheRunningImageOntoTheReadOnlyMount) {
  if (!can_make_read_only_copy())
    GTEST_SKIP() << "needs CAP_SYS_ADMIN to make a read-only bind mount";
  const int code = in_child([] {
    const std::string before = own_path();
    if (before.empty() || !maps_mention(before)) return 10;
    const int file = read_only_copy_of_self();
    if (file < 0) return 11;
    g_data_marker = 42;
    g_bss_marker = 43;
    if (!adopt_executable(file)) {
      std::perror("adopt_executable");
      return 12;
    }
    ::close(file);
    // No mapping of the binary's own path is left, and what /proc/self/exe opens is on a
    // read-only mount.
    if (maps_mention(before)) return 13;
    const int exe = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct statvfs vfs {};
    if (exe < 0 || ::fstatvfs(exe, &vfs) < 0 || !(vfs.f_flag & ST_RDONLY)) return 14;
    ::close(exe);
    return still_works();
  });
  EXPECT_EQ(code, 0);
}

TEST(AdoptExecutable, RefusesAFileThatIsNotTheExecutable) {
  const int code = in_child([] {
    const std::string before = own_path();
    const int other = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    g_data_marker = 42;
    g_bss_marker = 43;
    if (adopt_executable(other)) return 10;
    if (errno != ENOENT) return 11;
    if (own_path() != before) return 12;
    return still_works();
  });
  EXPECT_EQ(code, 0);
}

// Without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE the kernel refuses the new executable after
// the mappings moved: the process goes on, and the caller can still exec.
TEST(AdoptExecutable, WithoutTheCapabilitiesTheKernelRefusesAndTheProcessGoesOn) {
  if (!can_make_read_only_copy())
    GTEST_SKIP() << "needs CAP_SYS_ADMIN to make a read-only bind mount";
  const int code = in_child([] {
    const std::string before = own_path();
    const int file = read_only_copy_of_self();
    if (file < 0) return 10;
    cap_t caps = cap_get_proc();
    const cap_value_t drop[] = {CAP_SYS_ADMIN, CAP_CHECKPOINT_RESTORE};
    if (caps == nullptr || cap_set_flag(caps, CAP_EFFECTIVE, 2, drop, CAP_CLEAR) < 0 ||
        cap_set_proc(caps) < 0)
      return 11;
    cap_free(caps);
    g_data_marker = 42;
    g_bss_marker = 43;
    if (adopt_executable(file)) return 12;
    if (errno != EPERM) return 13;
    if (own_path() != before) return 14;
    return still_works();
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
