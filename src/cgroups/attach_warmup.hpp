#pragma once
// Moving a process into a cgroup (a write to cgroup.procs, v1 or v2) takes the kernel's
// global cgroup_threadgroup_rwsem for writing. The first writer after a quiet spell waits a
// whole RCU grace period there (5-12 ms measured on these machines) while writers that come
// within the next grace period pass at once. Attaching the init is on the start-up critical
// path wherever it needs that write (v1 and hybrid hosts; v2 clones straight into the cgroup),
// so a process forked early makes a no-op write, its own pid into the cgroup it is already
// in, and the wait is paid while create does its other work. A process, not a thread: the
// init is clone()d from this process and goes on to use malloc and stdio, which a second
// thread could hold locked at that moment (seen: an init stuck on a futex).
#include <sys/types.h>

#include <string>

namespace urun::cgroups {

class AttachWarmup {
 public:
  // Forks the writer when root (the cgroup mount root, e.g. /sys/fs/cgroup) has a
  // hierarchy this process's cgroup can be found in; otherwise does nothing. Never throws:
  // this is only an optimisation.
  explicit AttachWarmup(const std::string& root);
  ~AttachWarmup();  // reaps the writer
  AttachWarmup(const AttachWarmup&) = delete;
  AttachWarmup& operator=(const AttachWarmup&) = delete;
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

}  // namespace urun::cgroups
