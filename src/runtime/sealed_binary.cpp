#include "runtime/sealed_binary.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "linux/executable_image.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char** environ;

namespace urun::runtime {
namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

UniqueFd make_memfd() {
  // MFD_EXEC: kernels with vm.memfd_noexec make memfds non-executable by default; older
  // kernels reject the flag, and a sysctl of 2 refuses it: then without.
  UniqueFd fd(static_cast<int>(
      ::syscall(SYS_memfd_create, "urun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC)));
  if (!fd && errno == EINVAL)
    fd.reset(
        static_cast<int>(::syscall(SYS_memfd_create, "urun", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
  if (!fd) throw_errno("create a sealed copy of the urun binary: memfd_create");
  return fd;
}

// Root's cheap way: a detached read-only bind mount of the binary, which the running image
// moves onto (or, where the kernel refuses, which is executed through its fd). /proc/<pid>/exe
// then leads to that mount, where opening for writing fails with EROFS, and nothing is copied.
// Needs CAP_SYS_ADMIN: returns an empty fd when not possible.
UniqueFd read_only_mount_of(const char* path) {
  UniqueFd tree(static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!tree) return tree;
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return UniqueFd();
  return tree;
}

// Closing the last fd of a detached mount dissolves it, and the kernel then waits for an RCU
// grace period (synchronize_rcu_expedited: about 20 us on an idle 2-core host, 10-20 ms measured
// on a loaded one). That wait would block every create, run and exec. So a helper
// sharing our memory (no page tables to copy: cheaper than fork) holds a copy of the fd and
// closes it only when its end of a pipe reads EOF, once we closed ours (or exec'd): the wait is
// then the helper's. Exit signal 0 keeps it out of our waitpid(-1) calls (those need __WALL);
// once we exit, whoever inherits it reaps it. It calls only raw syscalls: it shares our memory,
// errno included, while we go on.
struct Release {
  int tree;
  int wait_read;
  int wait_write;
};

int release_when_told(void* arg) {
  const Release* r = static_cast<const Release*>(arg);
  // Every other fd first: a copy of the caller's stdout would hold back its EOF. (close_range
  // is older than mount_setattr, so it is there.)
  const unsigned lo = static_cast<unsigned>(r->tree < r->wait_read ? r->tree : r->wait_read);
  const unsigned hi = static_cast<unsigned>(r->tree < r->wait_read ? r->wait_read : r->tree);
  if (lo > 0) ::syscall(SYS_close_range, 0U, lo - 1, 0U);
  if (hi > lo + 1) ::syscall(SYS_close_range, lo + 1, hi - 1, 0U);
  ::syscall(SYS_close_range, hi + 1, ~0U, 0U);
  char c;
  while (::syscall(SYS_read, r->wait_read, &c, 1) > 0) {
  }
  ::syscall(SYS_close, r->tree);  // the last reference: the grace period is waited for here
  ::syscall(SYS_exit, 0);
  return 0;
}

// Starts the helper that closes `tree` once the returned fd (O_CLOEXEC) is closed, by an exec
// or by hand after our own copy of `tree`. Best effort: without a helper (an empty fd), whoever
// closes the last copy pays the wait.
UniqueFd release_tree_in_helper(int tree) {
  static Release release;
  alignas(64) static char stack[16384];
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return UniqueFd();
  release = {tree, fds[0], fds[1]};
  if (::clone(release_when_told, stack + sizeof stack, CLONE_VM, &release) < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return UniqueFd();
  }
  ::close(fds[0]);
  return UniqueFd(fds[1]);
}

// The running image moved onto the read-only mount (linux/executable_image.hpp): the same
// protection as an exec from it, without a second process start. False when the kernel refuses
// (then the caller execs).
bool adopt_read_only_copy(UniqueFd& tree) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", tree.get());
  UniqueFd file(::open(path, O_RDONLY | O_CLOEXEC));
  if (!file || !linux::adopt_executable(file.get())) return false;
  UniqueFd told = release_tree_in_helper(tree.get());
  tree.reset();  // ours first: the helper's copy is then the last
  return true;   // `told` closes here, and the helper dissolves the mount
}

}  // namespace

void ensure_sealed_binary(char** argv) {
  // Found out of reach once (by the early attempt at startup): the check before the command
  // need not look again, the binary of a running process does not change.
  static bool out_of_reach = false;
  if (out_of_reach) return;
  UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) throw_errno("open /proc/self/exe");
  int seals = ::fcntl(exe.get(), F_GET_SEALS);
  // The copy, re-executed; on a read-only mount (the re-executed bind mount, or a read-only
  // /usr); or not writable by the caller's ids: nor by the container's, which are ours or fewer.
  struct statvfs vfs {};
  out_of_reach = (seals >= 0 && (seals & kSeals) == kSeals) ||
                 (::fstatvfs(exe.get(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) ||
                 ::faccessat(AT_FDCWD, "/proc/self/exe", W_OK, AT_EACCESS) != 0;
  if (out_of_reach) return;

  if (UniqueFd ro = read_only_mount_of("/proc/self/exe")) {
    exe.reset();
    if (adopt_read_only_copy(ro)) {
      out_of_reach = true;
      return;
    }
    // The helper's /proc/<pid>/exe is the writable binary, as ours is until the exec:
    // non-dumpable (this memory's flag, which the exec resets for us) keeps it from anyone
    // without CAP_SYS_PTRACE.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    release_tree_in_helper(ro.get()).release();  // closed by the exec
    ::syscall(SYS_execveat, ro.get(), "", argv, environ, AT_EMPTY_PATH);
    throw_errno("run the urun binary from a read-only mount");
  }

  struct stat st {};
  if (::fstat(exe.get(), &st) < 0) throw_errno("stat /proc/self/exe");
  UniqueFd copy = make_memfd();
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(copy.get(), exe.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("create a sealed copy of the urun binary: copy", n == 0 ? EIO : errno);
    left -= n;
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, kSeals) < 0)
    throw_errno("create a sealed copy of the urun binary: seal");
  exe.reset();
  ::syscall(SYS_execveat, copy.get(), "", argv, environ, AT_EMPTY_PATH);
  throw_errno("run the sealed copy of the urun binary");
}

void seal_binary_early(int argc, char** argv) noexcept {
  bool wanted = false;
  for (int i = 1; i < argc && !wanted; ++i) {
    const std::string_view arg = argv[i];
    wanted = arg == "create" || arg == "run" || arg == "exec";
  }
  if (!wanted) return;
  try {
    ensure_sealed_binary(argv);
  } catch (...) {
  }
}

}  // namespace urun::runtime
