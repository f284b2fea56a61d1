#pragma once
// The container init: the child side of clone(). Everything here was decided by
// container/create.cpp in the create plan (runtime/create_plan.hpp) before anything existed;
// the child only applies it, in the order the OCI spec and the kernel require, then execs the
// process.
#include <vector>

#include "linux/mounts/rootfs.hpp"
#include "runtime/create_plan.hpp"
#include "runtime/process_setup.hpp"  // find_executable
#include "runtime/sync_channel.hpp"

namespace urun::runtime {

// What one init has beyond the plan: set up by launch_init for this clone, then filled in by
// the init as it goes.
struct InitState {
  const CreatePlan* plan = nullptr;
  const SyncChannel* channel = nullptr;  // the child's end
  // process.terminal: the connected console socket (moved above the preserved fds,
  // close-on-exec), or -1 to send the master to the parent.
  int console_socket = -1;
  // false: the parent entered the bundle before clone, and the init inherited it.
  bool chdir_to_bundle = true;
  linux::RootfsOptions rootfs;    // the plan's, plus the fds the init opens and receives
  bool setgroups_denied = false;  // a single-id map denies setgroups(2)
};

// The clone() entry point. Never returns and never throws: any failure is sent
// to the parent as a kError frame (or written to stderr when the parent is
// gone) and the child _exits with status 127.
[[noreturn]] void container_init(InitState& state) noexcept;

}  // namespace urun::runtime
