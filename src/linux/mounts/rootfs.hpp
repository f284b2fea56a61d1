#pragma once
// Building the container's filesystem view in its new mount namespace. Runs in
// the child (container init) before and after pivot_root.
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "linux/mounts/cgroup_mount.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

struct RootfsOptions {
  std::string rootfs;        // absolute host path of the bundle's rootfs
  bool rootless = false;     // no mknod: bind devices from the host; sysfs may need a bind fallback
  bool new_user_ns = false;  // a user namespace was created for the container
  // The init is in a user namespace, new or joined: its mount namespace receives the host's
  // shared mounts as slaves, and host paths were opened before it took the namespace's ids.
  bool user_ns = false;
  bool new_net_ns = false;  // sysfs can be mounted only with a network namespace of our own
  bool new_cgroup_ns = false;
  // Which cgroup a `cgroup` mount shows per hierarchy (the parent's plan).
  CgroupMountPlan cgroup;
  // Host paths the init opened before it took its user namespace's ids
  // (linux/mounts/bind_sources.hpp), or -1: looked up by path. The rootfs directory, and per spec
  // mount (same index) the bind source.
  int rootfs_fd = -1;
  std::vector<int> source_fds;
  // Per spec mount: a detached tree the parent made (an id-mapped tree, or a clone of a source
  // the init was refused), or -1.
  std::vector<int> source_tree_fds;
  // Per linux.devices entry: a detached mount of a node the parent made (linux/device_nodes.hpp),
  // or -1.
  std::vector<int> device_tree_fds;
};

// Before pivot_root, in the new mount namespace: sets the propagation of "/"
// (rshared for a shared rootfsPropagation without a user namespace, so that
// volumes stay peers of the host's mounts; else rslave or rprivate),
// bind-mounts the rootfs on itself (so pivot_root can use it), applies
// rootfsPropagation, performs every spec mount (bind/rbind with flags,
// proc, sysfs, tmpfs, devpts, mqueue, cgroup...), creates the default devices
// and linux.devices (mknod as root, bind from the host when rootless) and the
// /dev/fd, /dev/std{in,out,err}, /dev/ptmx links. Every destination is
// resolved inside the rootfs. Returns an O_PATH fd of the new rootfs mount.
// Throws Error naming the mount.
UniqueFd prepare_rootfs(const spec::Spec& spec, const RootfsOptions& options);

// pivot_root into the rootfs mount `root_fd` (prepare_rootfs's) and detach
// the old root; with no_pivot, chroot instead (after moving the rootfs onto
// "/"). `rootfs` names it in errors.
void enter_rootfs(int root_fd, const std::string& rootfs, bool no_pivot);

// After pivot_root: maskedPaths (an empty read-only tmpfs on directories,
// /dev/null bound on files; absent paths ignored), readonlyPaths (read-only
// bind on itself), then root.readonly (remount "/" read-only, keeping flags).
void finish_rootfs(const spec::Spec& spec);

}  // namespace urun::linux
