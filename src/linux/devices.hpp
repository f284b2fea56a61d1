#pragma once
// Device nodes and /dev links inside the rootfs (container init, before
// pivot_root, after the spec mounts).
#include <vector>

#include "spec/spec.hpp"

namespace urun::linux {

struct DeviceOptions {
  // No mknod: each device is an empty file with the host's device bound on
  // it. Also the fallback when mknod fails with EPERM (user namespace).
  bool bind_devices = false;
  // Per linux.devices entry: a detached mount of the node the parent made
  // (linux/device_nodes.hpp), moved onto an empty file instead; -1 or null: none.
  const std::vector<int> *device_tree_fds = nullptr;
};

// Creates linux.devices and the default devices (null, zero, full, random,
// urandom, tty), then /dev/fd, /dev/std{in,out,err}, /dev/ptmx (only when
// /dev/pts is a devpts mount) and /dev/core (when the host has /proc/kcore).
// As crun does, when the spec does not mount a tmpfs on /dev only missing
// devices are created and no links are made. An entry that already exists is
// left alone. Every device that is a bind mount (from the host or from the
// parent) is nosuid and noexec, as in crun. Throws Error("create device
// `/dev/null`: ...").
void create_devices(int root_fd, const spec::Spec &spec, const DeviceOptions &options);

}  // namespace urun::linux
