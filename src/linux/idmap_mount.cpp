#include "linux/idmap_mount.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.hpp"

namespace urun::linux {

UniqueFd make_idmapped_tree(const std::string& source, int userns_fd, bool recursive,
                            const std::string& what) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  UniqueFd tree(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, source.c_str(), flags)));
  if (!tree) throw_errno(what + ": open_tree " + quote(source));
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
    throw_errno(what + ": id-map " + quote(source), err);
  }
  return tree;
}

}  // namespace urun::linux
