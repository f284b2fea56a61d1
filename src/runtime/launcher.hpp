#pragma once
// The parent side of container creation: computes the init's plan, clones it,
// answers its requests on the sync channel (id maps, hooks) and returns once
// it reports ready. On any failure the init is killed and reaped.
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/child_guard.hpp"
#include "linux/mounts/cgroup_mount.hpp"
#include "linux/net_devices.hpp"
#include "runtime/sync_channel.hpp"
#include "spec/spec.hpp"

namespace urun::runtime {

struct LaunchRequest {
  std::string id;
  const spec::Spec* spec = nullptr;
  std::string bundle;  // absolute: relative mount sources are relative to it
  std::string rootfs;  // absolute, resolved
  bool no_pivot = false;
  bool no_new_keyring = false;
  // Not euid 0 in the initial user namespace (the caller has worked this out already:
  // it reads /proc/self/uid_map, which the start path should do only once).
  bool rootless = false;
  int preserve_fds = 0;
  bool foreground = false;        // run: the init waits for kStart on the channel
  int start_fifo_fd = -1;         // create: the init waits for a byte on this fifo
  std::string seccomp_cache_dir;  // compiled seccomp programs; "" = no cache
  // process.terminal: the caller's connected --console-socket (not owned),
  // or -1 to receive the pty master in LaunchedInit::terminal.
  int console_socket = -1;
  int listen_fds = 0;  // the last preserve_fds are socket-activation fds
  // Fds of the preserved range that only hold the place (the caller had not
  // opened them): the init closes them.
  std::vector<int> placeholder_fds;
  // Places the init in the container's cgroup; called before the init may go
  // on (and so before it unshares its cgroup namespace).
  std::function<void(pid_t pid)> join_cgroup;
  // A cgroup v2 directory to clone the init straight into (CLONE_INTO_CGROUP); when
  // that works join_cgroup is not called. -1: none (v1, disabled).
  int cgroup_fd = -1;
  // What the container's /sys/fs/cgroup shows (only read with a cgroup mount).
  linux::CgroupMountPlan cgroup_mount;
  // Set when that plan is known only once the init is in its cgroup (systemd's scope):
  // the init is then placed before it may go on, and this plan replaces cgroup_mount.
  std::function<linux::CgroupMountPlan()> cgroup_mount_after_join;
  // Called once the init has made its cgroup namespace, if any (before the runtime
  // hooks): moves it on to its delegated cgroup (Manager::enter_delegate).
  std::function<void(pid_t pid)> after_cgroup_namespace;
  // linux.netDevices, parsed and checked by the caller: moved into the init's network
  // namespace before it may go on. nullptr or empty: none.
  const std::vector<linux::NetDevice>* net_devices = nullptr;
  // Runs prestart + createRuntime hooks for the init `pid`; returns the
  // state JSON handed to createContainer/startContainer hooks.
  std::function<std::string(pid_t pid)> runtime_hooks;
};

struct LaunchedInit {
  pid_t pid = -1;
  SyncChannel channel;  // parent end, still connected (run sends kStart on it)
  ChildGuard guard;     // kills the init unless released
  bool rootless = false;
  UniqueFd terminal;  // the pty master, for process.terminal without a console socket
};

// Throws Error (the init's own error when it failed) after killing the init.
LaunchedInit launch(const LaunchRequest& request);

}  // namespace urun::runtime
