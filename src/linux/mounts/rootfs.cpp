#include "linux/mounts/rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <optional>

#include "common/error.hpp"
#include "linux/devices.hpp"
#include "linux/lsm.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/mounts/systemd_cgroup_v1_mount.hpp"
#include "linux/path.hpp"

namespace urun::linux {
namespace {

const std::string &rootfs_propagation(const spec::Spec &spec) {
  static const std::string kNone;
  return spec.linux ? spec.linux->rootfs_propagation : kNone;
}

bool wants_shared(const std::string &propagation) {
  return propagation == "shared" || propagation == "rshared";
}

// What masking and read-only paths look up once for all of them rather than once per path
// (a default config has 19): whether /proc/self/fd can name their mount points, and the
// checked /dev/null.
class PathMounts {
 public:
  // After pivot_root the container may have no /proc: then plain paths are
  // used, which is safe because "/" is already the container's root and the
  // kernel's own ".." handling stops there.
  std::string target_of(int fd, const std::string &fallback) {
    if (!proc_fd_) proc_fd_ = ::access("/proc/self/fd", X_OK) == 0;
    return *proc_fd_ ? fd_path(fd) : fallback;
  }
  // A directory masked may have been /proc or above it: look again.
  void after_directory_mask() { proc_fd_.reset(); }

  // The container's /dev/null is ours, but check it is the real device before
  // using it to hide something. Opened on first use.
  int null_device(const std::string &what) {
    if (null_) return null_.get();
    UniqueFd null(::open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!null || ::fstat(null.get(), &st) < 0) throw_errno(what);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
      throw Error(what + ": /dev/null is not the null device", EINVAL);
    }
    null_ = std::move(null);
    return null_.get();
  }

 private:
  std::optional<bool> proc_fd_;
  UniqueFd null_;
};

// An existing path inside the container's "/" (after pivot_root), resolved
// without leaving it; nullopt when it does not exist.
struct Existing {
  InRootEntry entry;
  UniqueFd fd;  // O_PATH of the entry
  struct stat st;
};

std::optional<Existing> find_existing(int root_fd, const std::string &path) {
  Existing e;
  try {
    e.entry = resolve_in_root(root_fd, path, false, true);
  } catch (const Error &err) {
    if (err.code() == ENOENT || err.code() == ENOTDIR) return std::nullopt;
    throw;
  }
  if (e.entry.name.empty()) return std::nullopt;  // "/" itself: not something to mask
  if (e.entry.entry) {                            // as the walk found it
    e.fd = std::move(e.entry.entry);
    e.st = e.entry.entry_stat;
    return e;
  }
  e.fd.reset(::openat(e.entry.dir.get(), e.entry.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!e.fd) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open " + quote(path));
  }
  if (::fstat(e.fd.get(), &e.st) < 0) throw_errno("stat " + quote(path));
  return e;
}

UniqueFd reopen_mounted(const Existing &e, const std::string &what) {
  UniqueFd out(::openat(e.entry.dir.get(), e.entry.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!out) throw_errno(what + ": open the new mount");
  return out;
}

void mask_path(int root_fd, const std::string &path, PathMounts &mounts) {
  auto e = find_existing(root_fd, path);
  if (!e) return;
  const std::string target = mounts.target_of(e->fd.get(), path);
  if (S_ISDIR(e->st.st_mode)) {
    const std::string what = "mask " + quote(path) + " with an empty read-only tmpfs";
    // A read-only tmpfs with one inode: nothing can ever be created in it.
    if (::mount("tmpfs", target.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "size=0k,nr_inodes=1,mode=755") < 0) {
      throw_errno(what);
    }
    mounts.after_directory_mask();
    return;
  }
  const std::string what = "mask " + quote(path) + " with /dev/null";
  const std::string source = mounts.target_of(mounts.null_device(what), "/dev/null");
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) throw_errno(what);
}

void make_readonly(int root_fd, const std::string &path, PathMounts &mounts) {
  auto e = find_existing(root_fd, path);
  if (!e) return;
  const std::string what = "make " + quote(path) + " read-only";
  const std::string target = mounts.target_of(e->fd.get(), path);
  if (::mount(target.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    throw_errno(what);
  }
  UniqueFd mounted = reopen_mounted(*e, what);
  // The bind repeats the flags it has now (nosuid, nodev, ...) plus ro, so
  // locked flags are kept and nothing gets looser.
  remount_bind(mounted.get(), MS_RDONLY | mount_flags_of(mounted.get()), true, what, path);
  // Submounts too, where the kernel has mount_setattr; a remount reaches only
  // the top.
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  ::syscall(SYS_mount_setattr, mounted.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
}

// Makes the mount holding the rootfs directory (the nearest mount root at or above it) private
// in the container's mount namespace. Walks up from the directory: a propagation change is
// refused (EINVAL) anywhere but on a mount's root, and "/" always is one.
void make_parent_mount_private(const std::string &rootfs) {
  const std::string what = "make the mount holding the rootfs " + quote(rootfs) + " private";
  UniqueFd dir(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw_errno(what);
  for (int depth = 0; depth < 4096; ++depth) {
    if (::mount(nullptr, fd_path(dir.get()).c_str(), nullptr, MS_PRIVATE, nullptr) == 0) return;
    if (errno != EINVAL) throw_errno(what);
    UniqueFd up(::openat(dir.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!up) throw_errno(what);
    dir = std::move(up);
  }
  throw Error(what + ": no mount root above it", ELOOP);
}

// Binds the rootfs on itself and returns an O_PATH fd of the new mount. From the fd the init
// opened before it took its user namespace's ids when there is one: the path may lead through
// directories the namespace's root may not enter. The clone is attached with move_mount, whose
// detached source fd then names the new mount (an fd of the rootfs would still name the covered
// directory).
UniqueFd bind_rootfs_on_itself(const RootfsOptions &options) {
  const std::string what = "bind the rootfs " + quote(options.rootfs) + " on itself";
  if (options.rootfs_fd >= 0) {
    UniqueFd tree(static_cast<int>(
        ::syscall(SYS_open_tree, options.rootfs_fd, "",
                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH)));
    if (tree) {
      if (::syscall(SYS_move_mount, tree.get(), "", options.rootfs_fd, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        throw_errno(what);
      return tree;
    }
    if (errno != ENOSYS) throw_errno(what);
  }
  const char *rootfs = options.rootfs.c_str();
  if (::mount(rootfs, rootfs, nullptr, MS_BIND | MS_REC, nullptr) < 0) throw_errno(what);
  // Opened after the bind so the fd is on the new mount, not the one it covers.
  UniqueFd root(::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("open the rootfs " + quote(options.rootfs));
  return root;
}

}  // namespace

UniqueFd prepare_rootfs(const spec::Spec &spec, const RootfsOptions &options) {
  const std::string &propagation = rootfs_propagation(spec);
  // Volumes keep the host's peer groups only if "/" is not made a slave first: with a shared
  // rootfsPropagation "/" becomes rshared, so that a volume bound `rshared` from a shared host
  // mount is a peer of it and mounts propagate both ways (runc and crun apply rootfsPropagation
  // to "/" the same way). A mount namespace made with a user namespace holds the host's shared
  // mounts as slaves whatever is done here, so there nothing is gained and the rule below keeps.
  const bool host_peers = wants_shared(propagation) && !options.user_ns;
  // Otherwise nothing done from here on may reach the host's mount table. Slave
  // (not private) when the config asks for shared or slave, so host mounts still
  // propagate in; a shared "/" is made only after pivot_root (finish_rootfs),
  // because pivot_root refuses a shared new root.
  unsigned long root_flags = MS_REC | MS_PRIVATE;
  if (host_peers) {
    root_flags = MS_REC | MS_SHARED;
  } else if (wants_shared(propagation) || propagation == "slave" || propagation == "rslave") {
    root_flags = MS_REC | MS_SLAVE;
  }
  if (::mount(nullptr, "/", nullptr, root_flags, nullptr) < 0) {
    throw_errno("set the propagation of `/`");
  }
  // With "/" shared, the bind below would show on the host's peers of the mount holding the
  // rootfs, and pivot_root refuses a new root whose parent mount is shared.
  if (host_peers) make_parent_mount_private(options.rootfs);
  // pivot_root needs the new root to be a mount point.
  UniqueFd root = bind_rootfs_on_itself(options);
  if (host_peers) {
    // Submounts of the rootfs came as peers of the host's: the container's mounts on them
    // must not show there. Only volumes, mounted next, stay peers.
    if (::mount(nullptr, fd_path(root.get()).c_str(), nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
      throw_errno("make the rootfs " + quote(options.rootfs) + " a private mount");
  } else if (!propagation.empty() && !wants_shared(propagation)) {
    unsigned long flags = propagation_flags(propagation);
    if (flags == 0) {
      throw Error("linux.rootfsPropagation: unknown value " + quote(propagation), EINVAL);
    }
    std::string target = fd_path(root.get());
    if (::mount(nullptr, target.c_str(), nullptr, MS_REC | flags, nullptr) < 0) {
      throw_errno("set the propagation of the rootfs to " + quote(propagation));
    }
  }

  MountContext context;
  context.root_fd = root.get();
  context.in_user_ns = options.new_user_ns || options.rootless;
  context.rootless = options.rootless;
  context.new_net_ns = options.new_net_ns;
  context.new_cgroup_ns = options.new_cgroup_ns;
  if (const auto *v1 = spec.annotation(kForceCgroupV1Annotation)) context.systemd_cgroup_v1 = *v1;
  context.cgroup = &options.cgroup;
  // Read from the host's /sys (not yet replaced) only when the config has a label.
  if (spec.linux && !spec.linux->mount_label.empty() && detect_lsm_host().selinux)
    context.mount_label = spec.linux->mount_label;
  auto fd_at = [](const std::vector<int> &fds, size_t i) { return i < fds.size() ? fds[i] : -1; };
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    context.source_tree_fd = fd_at(options.source_tree_fds, i);
    context.source_fd = fd_at(options.source_fds, i);
    mount_one(spec.mounts[i], context);
  }

  DeviceOptions devices;
  devices.bind_devices = options.rootless;
  devices.device_tree_fds = &options.device_tree_fds;
  create_devices(root.get(), spec, devices);
  // The volumes hold their peer groups now. The old root goes private: pivot_root refuses a
  // shared one when it is the root of the namespace, and no_pivot's move of the rootfs onto it
  // would show on the host.
  if (host_peers && ::mount(nullptr, "/", nullptr, MS_PRIVATE, nullptr) < 0)
    throw_errno("make `/` a private mount");
  return root;
}

void enter_rootfs(int root_fd, const std::string &rootfs, bool no_pivot) {
  if (no_pivot) {
    if (::fchdir(root_fd) < 0) throw_errno("chdir to the rootfs " + quote(rootfs));
    if (::mount(fd_path(root_fd).c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) {
      throw_errno("move the rootfs " + quote(rootfs) + " onto `/`");
    }
    if (::chroot(".") < 0) throw_errno("chroot into the rootfs " + quote(rootfs));
  } else {
    UniqueFd old_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!old_root) throw_errno("open `/`");
    if (::fchdir(root_fd) < 0) throw_errno("chdir to the rootfs " + quote(rootfs));
    // pivot_root(".", ".") stacks the old root on top of the new one, so no
    // directory for it is needed inside the rootfs.
    if (::syscall(SYS_pivot_root, ".", ".") < 0) throw_errno("pivot_root to " + quote(rootfs));
    // "." must name the old root's mount (the top one) for the calls below.
    if (::fchdir(old_root.get()) < 0) throw_errno("chdir to the old root");
    // Slave first, so the detach below cannot propagate to a peer on the host.
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
      throw_errno("make the old root a slave mount");
    }
    if (::umount2(".", MNT_DETACH) < 0) throw_errno("detach the old root");
  }
  if (::chdir("/") < 0) throw_errno("chdir to `/` of the container");
}

void finish_rootfs(const spec::Spec &spec) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("open `/`");
  if (spec.linux) {
    PathMounts mounts;
    for (const auto &p : spec.linux->masked_paths) mask_path(root.get(), clean_path(p), mounts);
    for (const auto &p : spec.linux->readonly_paths)
      make_readonly(root.get(), clean_path(p), mounts);
  }
  if (spec.root.readonly) {
    remount_bind(root.get(), MS_RDONLY | mount_flags_of(root.get()), true,
                 "make the root filesystem read-only", "/");
  }
  const std::string &propagation = rootfs_propagation(spec);
  if (wants_shared(propagation)) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) < 0) {
      throw_errno("set the propagation of `/` to " + quote(propagation));
    }
  }
}

}  // namespace urun::linux
