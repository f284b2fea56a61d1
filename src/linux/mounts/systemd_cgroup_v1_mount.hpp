#pragma once
// run.oci.systemd.force_cgroup_v1=PATH (crun's manual): the mount whose destination is
// PATH becomes a small tmpfs holding one cgroup v1 hierarchy, name=systemd, at
// PATH/systemd, for old systemd versions in the container that cannot use cgroup v2.
// The host must have that hierarchy mounted already (see the manual).
#include <string>

namespace urun::linux {

inline constexpr const char* kForceCgroupV1Annotation = "run.oci.systemd.force_cgroup_v1";

// Mounts the tmpfs and the named hierarchy on target_fd (an O_PATH fd of the prepared
// destination). ms_flags: the spec mount's MS_* flags (nosuid, nodev, noexec, ro...),
// applied to both mounts; the tmpfs becomes read-only only after the hierarchy's
// directory was made in it. Throws Error naming `what`.
void mount_systemd_cgroup_v1(int target_fd, unsigned long ms_flags, const std::string& what);

}  // namespace urun::linux
