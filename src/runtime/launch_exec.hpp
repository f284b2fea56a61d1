#pragma once
// `exec`: a new process in a running container's namespaces. The parent opens
// the init's namespaces and root before forking; the child joins them (user
// namespace first), enters the root, and forks once more because a joined pid
// namespace only applies to children. The grandchild is the container's new
// process: it moves itself into the container's cgroup v1 hierarchies first (through `tasks`
// files the parent opened), sets up user, capabilities and fds, reports ready, waits until
// the parent placed it in the rest of the cgroup, and execs.
//
// Sync messages (runtime/sync_channel.hpp), in order:
//
//   dir    type      payload     meaning
//   -----  --------  ----------  ----------------------------------------------------
//   C->P   kInitPid  pid (text)  the intermediate forked: this (host) pid is the process
//   C->P   kTerminal fd          process.terminal without a console socket: the master
//   C->P   kReady    -           set-up done: place me in the cgroup
//   P->C   kStart    -           placed: exec now
//   C->P   kError    errno+text  set-up (before kStart) or the exec (after) failed
//   (EOF)                        after kStart: the process was exec'd (close-on-exec)
//
// None of the parent's waits is unbounded: EOF ends them when the children are
// gone, and so do the caller's abort signals and a process that stays frozen.
#include <sys/types.h>

#include <string>
#include <vector>

#include "common/child_guard.hpp"
#include "common/error.hpp"
#include "common/exec_failure.hpp"
#include "common/unique_fd.hpp"
#include "linux/lsm.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "runtime/clone_child.hpp"
#include "spec/spec.hpp"

namespace urun::runtime {

// The parent's steps of an exec that need the container layer: its cgroup.
class ExecSteps {
 public:
  virtual ~ExecSteps() = default;
  // Places the new process in the hierarchies of the container's cgroup it is not in yet,
  // before it execs: cloned_into_cgroup, its intermediate was cloned into
  // ExecPlan::cgroup_fd; the hierarchies of ExecPlan::cgroup_join_files it joined itself.
  virtual void join_cgroup(pid_t pid, bool cloned_into_cgroup) = 0;
  // Whether to ask process_frozen at all.
  virtual bool watches_frozen() const = 0;
  // Whether the process's cgroup is frozen: asked only when the children have
  // been silent for a while. Frozen for a second, the set-up is given up,
  // since a frozen process would never exec.
  virtual bool process_frozen() = 0;
};

// What launch_exec applies in the container, computed and checked by container/exec.cpp.
struct ExecPlan {
  pid_t init_pid = -1;  // the container's init: its namespaces and root are joined
  const spec::Process* process = nullptr;  // complete: args, env, cwd, user, caps, rlimits
  // Not euid 0 (runtime::Caller): the process sets its own scheduler and I/O priority, which
  // the parent could not set once it switched to another user.
  bool caller_unprivileged = false;
  int preserve_fds = 0;
  // process.terminal: the caller's connected --console-socket (not owned),
  // or -1 to receive the pty master in ExecedProcess::terminal.
  int console_socket = -1;
  // Fds of the preserved range that only hold the place: closed in the child.
  std::vector<int> placeholder_fds;
  bool keep_original_groups = false;  // run.oci.keep_original_groups
  // The container's seccomp program (linux.seccomp applies to every process
  // of the container, as in crun); nullptr: none.
  const linux::SeccompProgram* seccomp = nullptr;
  // AppArmor profile / SELinux label the host applies (linux/lsm.hpp).
  linux::LsmLabels lsm;
  // The container's linux.personality and linux.memoryPolicy; nullptr: none. The process's own
  // scheduler, I/O priority and execCPUAffinity come with `process` (linux/sched_attrs.hpp).
  const spec::Personality* personality = nullptr;
  const spec::MemoryPolicy* memory_policy = nullptr;
  std::string state_json;  // the container's OCI state, for a seccomp agent
  // A cgroup2 directory to clone the intermediate into (CLONE_INTO_CGROUP; the process is its
  // child), or -1; and cgroup v1 `tasks` files (not owned, opened by the caller, so checked
  // against its credentials) the process writes "0" to first thing, moving itself in without
  // the kernel's cgroup-wide lock (cgroups::Manager::open_self_join_files).
  int cgroup_fd = -1;
  std::vector<CgroupJoinFile> cgroup_join_files;
  // Signals the caller has blocked that abort the set-up: the process is
  // killed and launch_exec throws ExecFailure("interrupted by SIGTERM
  // ...") with status 128 + signal, as if the signal had killed the process.
  std::vector<int> abort_signals;
};

struct ExecedProcess {
  pid_t pid = -1;     // host pid of the exec'd process (a child of ours: we are its subreaper)
  ChildGuard guard;   // kills it unless released
  UniqueFd terminal;  // the pty master, for process.terminal without a console socket
};

// The command itself could not be executed: common/exec_failure.hpp.
using urun::ExecFailure;

// Returns once the process was exec'd. Sets PR_SET_CHILD_SUBREAPER on the
// caller so the process is our child. Throws Error for set-up failures (the
// child's own message) and ExecFailure when execve failed; nothing is left
// running then.
ExecedProcess launch_exec(const ExecPlan& plan, ExecSteps& steps);

}  // namespace urun::runtime
