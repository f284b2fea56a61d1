#pragma once
// The create plan: everything a create decides, in one value. container/create.cpp builds it
// with plan_create() from the config and the command line, before the state dir or the cgroup
// exists, so that every check (namespace paths, id maps, capability names, the seccomp
// profile, LSM labels) fails with nothing to undo; it then adds the handles of what it made
// (CreateHandles) and hands the plan whole, by const reference, to launch_init
// (runtime/launch_init.hpp). The parent steps that need container/ (the cgroup, the hooks, the
// state record) come as one ParentSteps object next to it.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "linux/lsm.hpp"
#include "linux/mounts/cgroup_mount.hpp"
#include "linux/namespaces.hpp"
#include "linux/net_devices.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "runtime/caller.hpp"
#include "runtime/clone_child.hpp"
#include "runtime/id_maps.hpp"
#include "spec/spec.hpp"

namespace urun::runtime {

// What the command line adds to the config.
struct CreateOptions {
  std::string id;
  std::string rootfs;  // absolute, resolved
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;  // --preserve-fds plus the socket-activation fds
  int listen_fds = 0;    // the last preserve_fds are socket-activation fds (LISTEN_FDS)
  // Fds of the preserved range that only hold the place (the caller had not opened them):
  // the init closes them.
  std::vector<int> placeholder_fds;
  bool foreground = false;        // run: the init waits for kStart on the channel
  std::string seccomp_cache_dir;  // compiled seccomp programs; "" = no cache
};

// What create made once the plan was checked: fds of the caller's, not owned by the plan.
struct CreateHandles {
  int start_fifo_fd = -1;  // create: the init waits for a byte on this fifo
  // process.terminal: the caller's connected --console-socket, or -1 to receive the pty
  // master in LaunchedInit::terminal.
  int console_socket = -1;
  // A cgroup v2 directory to clone the init straight into (CLONE_INTO_CGROUP); -1: none.
  int cgroup_fd = -1;
  // cgroup v1 `tasks` files of the container's cgroup (close-on-exec, opened here, so checked
  // against our credentials): the init writes "0" to each first thing, moving itself in, and
  // closes them (cgroups::Manager::open_self_join_files).
  std::vector<CgroupJoinFile> cgroup_join_files;
  // What the container's /sys/fs/cgroup shows (only read with a cgroup mount).
  linux::CgroupMountPlan cgroup_mount;
  // That plan is known only once the init is in its cgroup (systemd's scope): the init is
  // placed before it may go on, and ParentSteps::cgroup_mount_after_join replaces it.
  bool cgroup_mount_after_join = false;
};

struct CreatePlan {
  const spec::Spec* spec = nullptr;  // validated; outlives the plan
  std::string bundle;                // absolute: relative mount sources are relative to it
  CreateOptions options;
  Caller caller;
  // Namespaces to clone, unshare and join; the joined ones' fds are above the preserved range.
  linux::NamespacePlan namespaces;
  bool joins_user = false;   // a user namespace joined by path
  bool joins_mount = false;  // a mount namespace joined by path
  IdMaps id_maps;            // for a new user namespace
  // The config maps only root to one host id but runs the process as another uid/gid: a
  // nested user namespace maps that uid/gid to the container's root (crun's "intermediate
  // user namespace").
  bool intermediate_userns = false;
  // A new time namespace's /proc/self/timens_offsets text; "" writes nothing.
  std::string timens_offsets;
  std::optional<linux::SeccompProgram> seccomp;  // compiled: the init only loads it
  linux::LsmLabels lsm;                          // AppArmor profile / SELinux label, if any
  bool keep_original_groups = false;             // run.oci.keep_original_groups
  // linux.netDevices, checked to exist: moved into the init's network namespace.
  std::vector<linux::NetDevice> net_devices;
  CreateHandles handles;  // filled in by the caller once the state dir and cgroup exist

  // The init is in a user namespace, new or joined.
  bool user_ns() const { return namespaces.new_user || joins_user; }
};

// Checks the whole config for a create and computes its plan: namespaces (opening the paths
// to join, above the preserved range), id maps, the seccomp program, LSM labels, time offsets,
// the network devices. Touches nothing: throws Error naming the field or path.
CreatePlan plan_create(const spec::Spec& spec, const std::string& bundle, CreateOptions options,
                       Caller caller);

}  // namespace urun::runtime
