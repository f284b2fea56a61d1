#pragma once
// The container's /sys/fs/cgroup (a spec mount of type `cgroup`): only the
// container's own cgroup is shown, as runc and crun do.
//  - unified host: cgroup2 when the container has a cgroup namespace (its
//    cgroup is then the root), else a bind of its own cgroup directory;
//  - v1 and hybrid hosts: a tmpfs with, per host hierarchy, a directory
//    holding its own cgroup of that hierarchy (a fresh `cgroup -o <controllers>`
//    mount in a cgroup namespace, else a bind), the links of co-mounted
//    controllers (cpu -> cpu,cpuacct) and `unified` for the cgroup2 tree.
// Read-only unless the options say rw. The parent computes which cgroup each
// hierarchy shows (CgroupMountPlan); the init applies it before pivot_root.
#include <map>
#include <string>
#include <string_view>

namespace urun::linux {

struct MountOptions;
struct MountContext;

struct CgroupMountPlan {
  // Directory of each host hierarchy under /sys/fs/cgroup ("memory",
  // "cpu,cpuacct", "systemd", "unified"; "" for a unified host's root) -> the
  // cgroup to show, relative to that hierarchy's root ("/urun/foo").
  std::map<std::string, std::string> paths;
  // The paths are the container's own cgroup. False when it has none
  // (rootless without delegation, --cgroup-manager=disabled): the paths are
  // then the runtime's own cgroups, and a unified host falls back to what
  // crun does (cgroup2 if the kernel allows it, else the host's tree).
  bool own = false;
};

// The hierarchy directory under /sys/fs/cgroup that a /proc/<pid>/cgroup line
// names: "" (the cgroup2 line) -> "unified" on a hybrid host and "" on a
// unified one; "name=systemd" -> "systemd"; "cpu,cpuacct" as is.
std::string cgroup_hierarchy_dir(std::string_view proc_key, bool unified_host);

// A plan from the text of /proc/self/cgroup (the runtime's own cgroups, for a
// container without one). Pure.
CgroupMountPlan cgroup_plan_from_proc(std::string_view proc_self_cgroup, bool unified_host);

// The plan as one sync-channel payload and back, for a cgroup whose paths are known only
// once the init joined it (the systemd manager's scope): "own" flag, then NUL-separated
// directory/path pairs (cgroup paths may hold any byte but NUL). decode throws Error
// (EPROTO) on a malformed payload.
std::string encode_cgroup_plan(const CgroupMountPlan &plan);
CgroupMountPlan decode_cgroup_plan(std::string_view payload);

// Where the cgroup mount goes: `fd` is an O_PATH fd of the destination
// directory; `dir_fd` + `name` look it up again, which crosses into a new
// mount made on it.
struct CgroupMountTarget {
  int dir_fd = -1;
  std::string name;
  int fd = -1;
};

// Performs the mount (see the top of this file). Throws Error naming `what`.
void mount_cgroup_tree(const MountOptions &opts, const MountContext &ctx,
                       const CgroupMountTarget &target, const std::string &what);

}  // namespace urun::linux
