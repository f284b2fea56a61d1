#pragma once
// Id-mapped bind mounts (crun's `idmap` mount option). The mapped tree is made
// by the parent, which is privileged over the source filesystem, as a
// detached mount (open_tree + mount_setattr(MOUNT_ATTR_IDMAP)); its fd goes to
// the init, which moves it onto the destination inside the rootfs.
#include <string>

#include "common/unique_fd.hpp"

namespace urun::linux {

// A detached copy of `source` (recursive for rbind) whose ids are mapped
// through the user namespace `userns_fd`; `nofollow` (src-nofollow): a symlink
// source is copied itself. `what` names the mount in errors, which say when the
// kernel or the filesystem cannot id-map, or the caller may not.
UniqueFd make_idmapped_tree(const std::string& source, int userns_fd, bool recursive, bool nofollow,
                            const std::string& what);

}  // namespace urun::linux
