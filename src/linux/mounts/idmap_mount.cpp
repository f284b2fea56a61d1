#include "linux/mounts/idmap_mount.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.hpp"

namespace urun::linux {
namespace {

// The kernel clones a mount only for a caller privileged over its mount namespace, and id-maps
// it only for one with CAP_SYS_ADMIN in the user namespace that owns the filesystem: the host's,
// for any filesystem an unprivileged user can name. Either EPERM means the same to that user.
[[noreturn]] void unprivileged_refused(const std::string& what, const std::string& source) {
  throw_errno(what + ": id-map " + quote(source) +
                  ": only root on the host may id-map a mount of a host filesystem",
              EPERM);
}

}  // namespace

UniqueFd make_idmapped_tree(const std::string& source, int userns_fd, bool recursive, bool nofollow,
                            const std::string& what) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_NO_AUTOMOUNT |
                   (recursive ? AT_RECURSIVE : 0) | (nofollow ? AT_SYMLINK_NOFOLLOW : 0);
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, source.c_str(), flags)));
  if (!tree) {
    if (errno == EPERM && ::geteuid() != 0) unprivileged_refused(what, source);
    throw_errno(what + ": open_tree " + quote(source));
  }
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
                &attr, sizeof attr) < 0) {
    int err = errno;
    if (err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP)
      throw_errno(what + ": the kernel or the filesystem of " + quote(source) +
                      " cannot make id-mapped mounts",
                  err);
    if (err == EPERM && ::geteuid() != 0) unprivileged_refused(what, source);
    throw_errno(what + ": id-map " + quote(source), err);
  }
  return tree;
}

}  // namespace urun::linux
