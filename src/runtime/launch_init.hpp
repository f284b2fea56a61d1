#pragma once
// The parent side of container creation: clones the init with the create plan
// (runtime/create_plan.hpp), answers its requests on the sync channel (id maps, prepared
// mounts, hooks) and returns once it reports ready. The steps that belong to the container
// layer (its cgroup, its hooks and record) are asked of one ParentSteps object, in the order
// below. On any failure the init is killed and reaped.
#include <sys/types.h>

#include <string>

#include "common/child_guard.hpp"
#include "linux/mounts/cgroup_mount.hpp"
#include "runtime/create_plan.hpp"
#include "runtime/sync_channel.hpp"

namespace urun::runtime {

// The parent's steps of a create that need more than the runtime knows, called in this order.
class ParentSteps {
 public:
  virtual ~ParentSteps() = default;
  // Places the init in the hierarchies of the container's cgroup it is not in yet: before it
  // may go on (and so before it unshares its cgroup namespace) when it must, else once its id
  // maps are written. cloned_into_cgroup: it started in CreateHandles::cgroup_fd; the
  // hierarchies of CreateHandles::cgroup_join_files it joined itself, first thing.
  virtual void join_cgroup(pid_t init, bool cloned_into_cgroup) = 0;
  // Only with CreateHandles::cgroup_mount_after_join, once the init is in its cgroup: what the
  // container's /sys/fs/cgroup shows.
  virtual linux::CgroupMountPlan cgroup_mount_after_join() = 0;
  // The init (the real one, when it forked) has made its cgroup namespace, if any, and its
  // mounts: moves it on to its delegated cgroup (Manager::enter_delegate).
  virtual void after_cgroup_namespace(pid_t init) = 0;
  // The init (the real one, when it forked) has its id maps and is making its mounts: work that
  // needs only its pid, done on the parent's side meanwhile instead of while the init waits.
  virtual void init_running(pid_t init) = 0;
  // Runs the prestart + createRuntime hooks for `init`; returns the state JSON handed to the
  // createContainer and startContainer hooks (and a seccomp agent).
  virtual std::string run_runtime_hooks(pid_t init) = 0;
};

struct LaunchedInit {
  pid_t pid = -1;
  SyncChannel channel;  // parent end, still connected (run sends kStart on it)
  ChildGuard guard;     // kills the init unless released
  UniqueFd terminal;    // the pty master, for process.terminal without a console socket
};

// Throws Error (the init's own error when it failed) after killing the init.
LaunchedInit launch_init(const CreatePlan& plan, ParentSteps& steps);

}  // namespace urun::runtime
