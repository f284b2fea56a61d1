#pragma once
// Applies the runtime-spec 1.3 attributes the parser resolved (spec/kernel_attrs.hpp): one
// syscall each, with an error that names the value and, where the kernel only says EPERM or
// EINVAL, what it wants.
//
// Who applies what, and when (runtime/launch_init.cpp, init.cpp, launch_exec.cpp):
//   process.scheduler, process.ioPriority  the parent, on the container's process, right after
//       it joined its cgroup (a realtime policy needs the cgroup's realtime budget) and before
//       it switches to the process user: a privileged parent holds CAP_SYS_NICE on the host,
//       which the process in its user namespace never has. An unprivileged `exec` has the
//       process set its own (before the switch, so any process user works).
//   linux.memoryPolicy, linux.personality  the process itself (set_mempolicy and personality act
//       on the caller only), before seccomp; both survive fork and execve.
//   process.execCPUAffinity (exec only)  initial: the exec child, first thing, so the runtime's
//       work in the container runs there; final: the process, after its cgroup join and just
//       before execve (joining a cpuset resets the affinity).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "spec/spec.hpp"

namespace urun::linux {

// sched_setattr(pid) (0: the caller).
void set_scheduler(pid_t pid, const spec::Scheduler& scheduler);
// ioprio_set(IOPRIO_WHO_PROCESS, pid) (0: the caller).
void set_io_priority(pid_t pid, const spec::IoPriority& priority);
// sched_setaffinity(pid) to the CPUs of `mask`; `which` and `text` name it in errors
// ("set final CPU affinity `0-3`: ..."). An empty mask does nothing.
void set_cpu_affinity(pid_t pid, const std::vector<uint64_t>& mask, const std::string& text,
                      const char* which);
// personality(2) of the caller.
void set_personality(const spec::Personality& personality);
// set_mempolicy(2) of the caller.
void set_memory_policy(const spec::MemoryPolicy& policy);

}  // namespace urun::linux
