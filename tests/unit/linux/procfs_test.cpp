// linux/procfs: a /proc handle is only made from the root of a procfs, and files opened through
// it are never reached through a mount over part of the path. The mounts are made as root in a
// forked child with its own mount namespace, so the host's /proc is never covered; nothing is
// written (files are opened read-only).
#include "linux/procfs.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>

#include "common/error.hpp"
#include "in_child.hpp"
#include "temp_dir.hpp"

namespace {

using urun::linux::ProcFs;
using urun_test::in_child;

// The errno of open_file(rel, O_RDONLY), 0 when it opened.
int open_errno(const ProcFs& proc, const char* rel) {
  try {
    proc.open_file(rel, O_RDONLY);
    return 0;
  } catch (const urun::Error& e) {
    return e.code();
  }
}

// `body` in a child with a private mount namespace; its return value is the exit code.
template <typename F>
int in_private_mounts(F body) {
  return in_child([&] {
    if (::unshare(CLONE_NEWNS) < 0) return 90;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return 91;
    return body();
  });
}

class ProcFsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { urun::linux::procfs_use_openat2_for_testing(GetParam()); }
  void TearDown() override { urun::linux::procfs_use_openat2_for_testing(true); }
};

TEST_P(ProcFsTest, OpensFilesOfTheRealProc) {
  ProcFs proc = ProcFs::open();
  EXPECT_EQ(open_errno(proc, "sys/kernel/osrelease"), 0);
  EXPECT_EQ(open_errno(proc, "self/status"), 0);
  EXPECT_EQ(open_errno(proc, "thread-self/stat"), 0);
  EXPECT_EQ(open_errno(proc, "sys/kernel/no_such_file"), ENOENT);
  // Symlinks other than self and thread-self are not followed (/proc/mounts -> self/mounts).
  EXPECT_EQ(open_errno(proc, "mounts"), ELOOP);
}

TEST_P(ProcFsTest, OnlyTheRootOfAProcfsIsAccepted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount (in a private mount namespace)";
  urun_test::TempDir dir;
  const std::string tmpfs = dir.path() + "/tmpfs", sub = dir.path() + "/sub";
  ::mkdir(tmpfs.c_str(), 0755);
  ::mkdir(sub.c_str(), 0755);
  int code = in_private_mounts([&] {
    if (::mount("tmpfs", tmpfs.c_str(), "tmpfs", 0, nullptr) < 0) return 92;
    if (::mount("/proc/sys", sub.c_str(), nullptr, MS_BIND, nullptr) < 0) return 93;
    for (const std::string& path : {tmpfs, sub}) {
      try {
        ProcFs::open(path.c_str());
        return 1;  // accepted
      } catch (const urun::Error& e) {
        if (std::string(e.what()) != "`" + path + "` is not the root of a procfs mount") return 2;
      }
    }
    try {
      ProcFs::open("/proc");
    } catch (const urun::Error&) {
      return 3;
    }
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST_P(ProcFsTest, AMountOverASubpathCannotRedirectAnOpen) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount (in a private mount namespace)";
  int code = in_private_mounts([&] {
    ProcFs proc = ProcFs::open();
    if (open_errno(proc, "sys/net/ipv4/ip_forward") != 0) return 92;
    // A tmpfs (a volume) over /proc/sys/net holding a file of the same name.
    if (::mount("tmpfs", "/proc/sys/net", "tmpfs", 0, nullptr) < 0) return 93;
    ::mkdir("/proc/sys/net/ipv4", 0755);
    ::close(::open("/proc/sys/net/ipv4/ip_forward", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    if (::access("/proc/sys/net/ipv4/ip_forward", F_OK) != 0) return 94;
    if (open_errno(proc, "sys/net/ipv4/ip_forward") != EXDEV) return 1;
    // Unaffected paths still open.
    if (open_errno(proc, "sys/kernel/osrelease") != 0) return 2;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST_P(ProcFsTest, ABindOfProcfsItselfOverASubpathIsSeenWithOpenat2) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount (in a private mount namespace)";
  if (!GetParam()) GTEST_SKIP() << "the walk without openat2 cannot tell (same device)";
  int code = in_private_mounts([&] {
    ProcFs proc = ProcFs::open();
    if (::mount("/proc/sys/kernel", "/proc/sys/net", nullptr, MS_BIND, nullptr) < 0) return 93;
    return open_errno(proc, "sys/net/osrelease") == EXDEV ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

INSTANTIATE_TEST_SUITE_P(Openat2, ProcFsTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "walk"; });

}  // namespace
