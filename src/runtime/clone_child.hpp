#pragma once
// Starting the container's first process: clone(2) with the namespace flags, or, when
// the cgroup is a cgroup v2 directory known before the clone, clone3(2) with
// CLONE_INTO_CGROUP so the child is born in it. That saves the parent the write to
// cgroup.procs after the clone, a migration that waits for an RCU grace period in the
// kernel, and the child never runs a moment in the runtime's own cgroup.
#include <sys/types.h>

#include <string>

namespace urun::runtime {

// A cgroup v1 `tasks` file of the container's cgroup, opened by the parent (so the kernel
// checks the parent's credentials) for the child to move itself in through
// (cgroups::Manager::open_self_join_files). Not owned here.
struct CgroupJoinFile {
  int fd = -1;
  std::string path;  // for messages
};

// Child side: moves the calling process into the cgroup of `file` by writing "0" to it. A task
// moving itself skips the kernel's cgroup_threadgroup_rwsem, whose write lock a pid written
// to cgroup.procs takes and which waits for an RCU grace period (5-15 ms on these hosts).
// Throws urun::Error naming the file. The caller closes it.
void join_cgroup_itself(const CgroupJoinFile& file);

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

// fork(2), into the cgroup v2 directory cgroup_fd with clone3 CLONE_INTO_CGROUP when it is
// not -1 and the kernel can (in_cgroup says whether it did). Returns as fork does; throws
// urun::Error naming `what` when clone3 fails for another reason than its absence.
pid_t fork_into_cgroup(int cgroup_fd, bool& in_cgroup, const char* what);

}  // namespace urun::runtime
