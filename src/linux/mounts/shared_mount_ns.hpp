#pragma once
// A container without a mount namespace of its own (no "mount" entry in linux.namespaces, or
// one naming the runtime's own): runtime-spec says it shares the runtime's, and every mount,
// pivot_root or propagation change would land in the host's mount table and stay there. So, as
// crun does, the init enters the rootfs by chroot and makes no mounts; unlike crun, nothing at
// all reaches the host's mount table:
//   mounts, linux.devices, the default devices and /dev links, idmapped mounts,
//   linux.rootfsPropagation   not applied (they only add to the container's view); the parent
//                             warns, naming them (unapplied_mount_settings)
//   root.readonly             refused before anything is created
//                             (spec::check_without_mount_namespace)
//   maskedPaths, readonlyPaths  refused when the path exists in the rootfs (hiding it would
//                             need a mount); absent ones are ignored, as they are anyway
// The container sees the rootfs directory as it is, with whatever the host mounted below it.
#include <string>

#include "spec/spec.hpp"

namespace urun::linux {

// What of the config the container will not get for want of a mount namespace, for a warning:
// e.g. "7 mounts and linux.rootfsPropagation"; "" when nothing is left out. Pure.
std::string unapplied_mount_settings(const spec::Spec& spec);

// In the init, in place of pivot_root: chroot into `rootfs` and chdir to its "/". Changes only
// this process's root, never a mount. Throws Error naming the rootfs.
void enter_rootfs_by_chroot(const std::string& rootfs);

// After enter_rootfs_by_chroot: throws Error naming the field and the path when a maskedPaths
// or readonlyPaths entry exists in the container's "/" (resolved inside it).
void refuse_paths_to_hide(const spec::Spec& spec);

}  // namespace urun::linux
