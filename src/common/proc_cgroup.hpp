#pragma once
// The text of /proc/<pid>/cgroup, parsed. Pure and free of any other urun module: the
// cgroup managers (cgroups/), the container's cgroup mount (linux/mounts/cgroup_mount.cpp) and
// exec (container/) all read it, and the mount code sits below cgroups/ in the layers.
#include <map>
#include <string>
#include <string_view>

namespace urun {

// Hierarchy key -> path. The key is "" for the v2 line ("0::/x"), else the controller
// list as the kernel prints it ("cpu,cpuacct", "name=systemd"). Lines without two ':'
// are skipped; the path itself may contain ':'.
std::map<std::string, std::string> parse_proc_cgroup(std::string_view text);

}  // namespace urun
