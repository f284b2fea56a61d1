#pragma once
// Starting the container's first process: clone(2) with the namespace flags, or, when
// the cgroup is a cgroup v2 directory known before the clone, clone3(2) with
// CLONE_INTO_CGROUP so the child is born in it. That saves the parent the write to
// cgroup.procs after the clone, a migration that waits for an RCU grace period in the
// kernel, and the child never runs a moment in the runtime's own cgroup.
#include <sys/types.h>

namespace urun::runtime {

struct ClonedChild {
  pid_t pid = -1;
  // The child started in the cgroup of cgroup_fd; false when there was none or the
  // kernel cannot (clone3 before Linux 5.3, CLONE_INTO_CGROUP before 5.7): the caller
  // then moves it by cgroup.procs.
  bool in_cgroup = false;
};

// Runs entry(arg) in a child made with `flags` (CLONE_NEW* and the like; SIGCHLD is
// added) whose return value becomes its exit status. cgroup_fd: a cgroup v2 directory
// fd for CLONE_INTO_CGROUP, or -1. Throws urun::Error when no child could be made.
ClonedChild clone_child(int (*entry)(void*), void* arg, int flags, int cgroup_fd);

}  // namespace urun::runtime
