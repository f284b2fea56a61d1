#pragma once
// Building the container's filesystem view in its new mount namespace. Runs in
// the child (container init) before and after pivot_root.
#include <string>
#include <vector>

#include "linux/cgroup_mount.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

struct RootfsOptions {
  std::string rootfs;       // absolute host path of the bundle's rootfs
  bool rootless = false;    // no mknod: bind devices from the host; sysfs may need a bind fallback
  bool new_user_ns = false; // a user namespace was created for the container
  bool new_net_ns = false;  // sysfs can be mounted only with a network namespace of our own
  bool new_cgroup_ns = false;
  // Which cgroup a `cgroup` mount shows per hierarchy (the parent's plan).
  CgroupMountPlan cgroup;
  // Per spec mount (same index): the parent's id-mapped tree fd, or -1.
  std::vector<int> idmapped_tree_fds;
};

// Before pivot_root, in the new mount namespace: makes "/" rslave/rprivate,
// bind-mounts the rootfs on itself (so pivot_root can use it), applies
// rootfsPropagation, performs every spec mount (bind/rbind with flags,
// proc, sysfs, tmpfs, devpts, mqueue, cgroup...), creates the default devices
// and linux.devices (mknod as root, bind from the host when rootless) and the
// /dev/fd, /dev/std{in,out,err}, /dev/ptmx links. Every destination is
// resolved inside the rootfs. Throws Error naming the mount.
void prepare_rootfs(const spec::Spec& spec, const RootfsOptions& options);

// pivot_root into the rootfs and detach the old root; with no_pivot, chroot
// instead (after moving the rootfs onto "/").
void enter_rootfs(const std::string& rootfs, bool no_pivot);

// After pivot_root: maskedPaths (an empty read-only tmpfs on directories,
// /dev/null bound on files; absent paths ignored), readonlyPaths (read-only
// bind on itself), then root.readonly (remount "/" read-only, keeping flags).
void finish_rootfs(const spec::Spec& spec);

}  // namespace urun::linux
