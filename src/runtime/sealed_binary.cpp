#include "runtime/sealed_binary.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

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

}  // namespace

void ensure_sealed_binary(char** argv) {
  UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) throw_errno("open /proc/self/exe");
  int seals = ::fcntl(exe.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return;  // the copy, re-executed
  if (::faccessat(AT_FDCWD, "/proc/self/exe", W_OK, AT_EACCESS) != 0) return;

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

}  // namespace urun::runtime
