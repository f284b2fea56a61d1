#include "runtime/clone_child.hpp"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace urun::runtime {
namespace {

constexpr size_t kChildStack = 1 << 20;

// clone3 with CLONE_INTO_CGROUP, fork-style (no CLONE_VM: the child gets a copy of
// this stack and returns from the syscall like from fork). -1 with errno otherwise.
pid_t clone3_into_cgroup(int flags, int cgroup_fd) {
  clone_args args{};
  args.flags = static_cast<uint64_t>(static_cast<unsigned>(flags)) | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

// ENOSYS: no clone3 (< 5.3); E2BIG: clone_args too large, so no cgroup field (< 5.7); EINVAL:
// CLONE_INTO_CGROUP unknown. Anything else (EBUSY, EACCES...) the cgroup.procs write would meet
// as well: the caller says so at once.
bool clone3_into_cgroup_unsupported(int err) {
  return err == ENOSYS || err == E2BIG || err == EINVAL;
}

}  // namespace

ClonedChild clone_child(int (*entry)(void*), void* arg, int flags, int cgroup_fd) {
  ClonedChild out;
  if (cgroup_fd >= 0) {
    pid_t pid = clone3_into_cgroup(flags, cgroup_fd);
    if (pid == 0) ::_exit(entry(arg));
    if (pid > 0) {
      out.pid = pid;
      out.in_cgroup = true;
      return out;
    }
    if (!clone3_into_cgroup_unsupported(errno))
      throw_errno("clone the container init into its cgroup");
  }

  // The stack is only reserved address space: pages are touched as used.
  void* stack = ::mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) throw_errno("allocate the init's stack");
  pid_t pid = ::clone(entry, static_cast<char*>(stack) + kChildStack, flags | SIGCHLD, arg);
  int clone_errno = errno;
  // Without CLONE_VM the child has its own copy of the mapping: ours can go.
  ::munmap(stack, kChildStack);
  if (pid < 0) throw_errno("clone the container init", clone_errno);
  out.pid = pid;
  return out;
}

pid_t fork_into_cgroup(int cgroup_fd, bool& in_cgroup, const char* what) {
  in_cgroup = false;
  if (cgroup_fd >= 0) {
    const pid_t pid = clone3_into_cgroup(0, cgroup_fd);
    if (pid >= 0) {
      in_cgroup = true;
      return pid;
    }
    if (!clone3_into_cgroup_unsupported(errno))
      throw_errno(std::string("fork ") + what + " into the container's cgroup");
  }
  return ::fork();
}

void join_cgroup_itself(const CgroupJoinFile& file) {
  if (::write(file.fd, "0", 1) != 1)
    throw_errno("join the container's cgroup: write " + quote(file.path));
}

}  // namespace urun::runtime
