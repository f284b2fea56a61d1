#pragma once
// How a container is described to CRIU, as crun and runc describe it: what in
// its mount tree and namespaces comes from outside the container and so must
// be named "external" at dump and supplied again at restore.
//  - bind mounts of the config: the mount point is the key at dump; at restore
//    the key gets the config's (possibly new) source;
//  - device nodes bound from the host's devtmpfs (a container in a user
//    namespace binds them; so may a masked path): found in the container's
//    mountinfo at dump, recorded in the image directory (kExternalsFile) with
//    the host path to bind again at restore. Masked files bound from the
//    container's own /dev/null, like other binds inside the container's own
//    mounts, CRIU dumps and restores itself;
//  - namespaces joined by path: network and pid are external at dump
//    (--external net[INODE]:extRootNetNS) and inherited at restore
//    (--inherit-fd), ipc, uts and time are joined at restore (--join-ns).
// Tmpfs, proc, sysfs, devpts, mqueue and cgroup mounts CRIU dumps itself.
#include <map>
#include <string>
#include <vector>

#include "spec/spec.hpp"

namespace urun::criu {

// Kept in the image directory next to CRIU's images.
constexpr const char* kExternalsFile = "urun-externals.json";
// What fds 0, 1 and 2 of the init were at dump ("pipe:[1234]", "/dev/null"),
// under the name runc and crun use, so a restore can hand new pipes in.
constexpr const char* kDescriptorsFile = "descriptors.json";
constexpr const char* kNetNsKey = "extRootNetNS";
constexpr const char* kPidNsKey = "extRootPidNS";

// One entry of /proc/<pid>/mountinfo: where it is mounted (inside the
// container), the part of its filesystem it shows, and the filesystem type.
struct MountEntry {
  std::string mount_point;
  std::string root;
  std::string fs_type;
};
std::vector<MountEntry> parse_mountinfo(const std::string& text);

// Mount points of the config's bind mounts, cleaned ("/data/" -> "/data").
std::vector<std::string> bind_mount_points(const spec::Spec& spec);

// The host-backed mounts the config does not name as bind mounts, keyed by
// mount point: device nodes bound from the host's devtmpfs (-> the host path,
// "/dev" + the mount's root), and the container's own cgroup directories
// bound from the host's hierarchies (-> the hierarchy's directory name and the
// cgroup path at dump; a restore binds its new container's cgroup there).
struct Externals {
  std::map<std::string, std::string> devices;
  struct CgroupBind {
    std::string hierarchy;  // "memory", "unified", "" on a unified host
    std::string path;       // "/urun/c1"
  };
  std::map<std::string, CgroupBind> cgroups;
};
Externals host_backed_mounts(const spec::Spec& spec, const std::vector<MountEntry>& mounts);

// The dump's --external arguments for the mounts: bind mount points and the
// host-backed ones.
std::vector<std::string> dump_mount_args(const spec::Spec& spec, const Externals& externals);

// The restore's --external arguments for the mounts: each bind mount point
// with the config's source (relative sources from bundle_dir), the recorded
// devices, and for each cgroup bind the new container's directory in that
// hierarchy (cgroup_dirs: hierarchy -> host directory; a hierarchy missing
// there gets the recorded path under /sys/fs/cgroup).
std::vector<std::string> restore_mount_args(const spec::Spec& spec, const std::string& bundle_dir,
                                            const Externals& externals,
                                            const std::map<std::string, std::string>& cgroup_dirs);

// Namespaces the config joins by path, by spec type ("network" -> path).
std::map<std::string, std::string> joined_namespaces(const spec::Spec& spec);

// The restore's --join-ns arguments: ipc, uts and time joined by path.
std::vector<std::string> restore_join_ns_args(const spec::Spec& spec);

// Externals <-> JSON text ({"devices": {...}, "cgroups": {mp: [hierarchy, path]}}).
std::string externals_to_json(const Externals& externals);
Externals externals_from_json(const std::string& text, const std::string& what);

}  // namespace urun::criu
