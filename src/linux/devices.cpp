#include "linux/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/error.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/path.hpp"

namespace urun::linux {
namespace {

struct DefaultDevice {
  const char *path;
  unsigned major;
  unsigned minor;
};

constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

mode_t type_bits(const std::string &type, const std::string &what) {
  if (type == "c" || type == "u") return S_IFCHR;
  if (type == "b") return S_IFBLK;
  if (type == "p") return S_IFIFO;
  throw Error(what + ": unknown device type " + quote(type), EINVAL);
}

// The empty file a device is bound on; O_PATH.
UniqueFd make_bind_target(const InRootEntry &entry, const std::string &what) {
  UniqueFd made(::openat(entry.dir.get(), entry.name.c_str(),
                         O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000));
  if (!made && errno != EEXIST) throw_errno(what + ": create the file to bind on");
  UniqueFd target(::openat(entry.dir.get(), entry.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target) throw_errno(what);
  return target;
}

// A bound device is nosuid and noexec, as crun makes it: a node is for reading and writing, and
// the host's /dev may carry neither flag. mount_setattr only sets flags, so those the kernel
// locked on a host mount stay.
void restrict_device_bind(const InRootEntry &entry, const std::string &what) {
  // The name now leads into the bind mount on top of the file (a lookup crosses into it; an fd
  // of the file would still name the covered one).
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
  if (::syscall(SYS_mount_setattr, entry.dir.get(), entry.name.c_str(), AT_SYMLINK_NOFOLLOW, &attr,
                sizeof attr) == 0)
    return;
  if (errno != ENOSYS) throw_errno(what + ": make the bound device nosuid,noexec");
  UniqueFd mounted(::openat(entry.dir.get(), entry.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!mounted) throw_errno(what + ": open the bound device");
  remount_bind(mounted.get(), MS_NOSUID | MS_NOEXEC | mount_flags_of(mounted.get()), true, what);
}

// Binds the host's node of the same path on an empty file: the only way to
// get a usable device without CAP_MKNOD over the host.
void bind_host_device(const InRootEntry &entry, const std::string &path, const std::string &what) {
  UniqueFd host(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!host && errno == ENOENT)
    throw_errno(what + ": no such device on the host to bind, and mknod is not permitted");
  if (!host) throw_errno(what + ": open the host device");
  struct stat st;
  if (::fstat(host.get(), &st) < 0) throw_errno(what);
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    throw Error(what + ": the host's " + quote(path) + " is not a device", ENODEV);
  }
  UniqueFd target = make_bind_target(entry, what);
  std::string src = fd_path(host.get());
  std::string dst = fd_path(target.get());
  if (::mount(src.c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    throw_errno(what + ": bind the host device");
  }
  restrict_device_bind(entry, what);
}

// Moves the node the parent made (already nosuid and noexec) onto an empty file.
void attach_device_tree(int tree_fd, const InRootEntry &entry, const std::string &what) {
  UniqueFd target = make_bind_target(entry, what);
  if (::syscall(SYS_move_mount, tree_fd, "", target.get(), "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    throw_errno(what + ": move the runtime's device node into place");
}

void create_device(int root_fd, const std::string &path, mode_t type, dev_t dev, mode_t mode,
                   uid_t uid, gid_t gid, bool bind, int tree_fd = -1) {
  const std::string what = "create device " + quote(path);
  InRootEntry entry;
  try {
    // A link already at the path is never followed: it counts as existing.
    entry = resolve_in_root(root_fd, path, true, false);
  } catch (Error &e) {
    throw e.prepend(what);
  }
  if (entry.name.empty()) throw Error(what + ": not a device path", EINVAL);
  struct stat st;
  if (entry.entry || ::fstatat(entry.dir.get(), entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return;
  if (tree_fd >= 0) return attach_device_tree(tree_fd, entry, what);
  // A fifo needs no privilege, so it is always made, never bound.
  if (!bind || type == S_IFIFO) {
    if (::mknodat(entry.dir.get(), entry.name.c_str(), type | (mode & 07777), dev) == 0) {
      // mknod is subject to the umask; chown may clear set-id bits: mode goes
      // last.
      if (::fchownat(entry.dir.get(), entry.name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
        throw_errno(what + ": chown");
      }
      if (::fchmodat(entry.dir.get(), entry.name.c_str(), mode & 07777, 0) < 0) {
        throw_errno(what + ": chmod");
      }
      return;
    }
    if (errno != EPERM) throw_errno(what + ": mknod");
  }
  bind_host_device(entry, path, what);
}

bool mounts_type_at(const spec::Spec &spec, const char *dest, const char *type) {
  for (const auto &m : spec.mounts) {
    if (clean_path(m.destination) == dest && m.type == type) return true;
  }
  return false;
}

void make_link(int dev_fd, const char *target, const char *name) {
  if (::symlinkat(target, dev_fd, name) < 0 && errno != EEXIST) {
    throw_errno("create link " + quote(std::string("/dev/") + name) + " to " + quote(target));
  }
}

}  // namespace

void create_devices(int root_fd, const spec::Spec &spec, const DeviceOptions &options) {
  // The spec's devices first: one that redefines a default device wins.
  if (spec.linux) {
    for (size_t i = 0; i < spec.linux->devices.size(); ++i) {
      const spec::Device &d = spec.linux->devices[i];
      const std::string path = clean_path(d.path);
      const std::string what = "create device " + quote(path);
      const mode_t type = type_bits(d.type, what);
      const dev_t dev =
          type == S_IFIFO ? 0
                          : makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
      const auto *trees = options.device_tree_fds;
      create_device(root_fd, path, type, dev, d.file_mode.value_or(0666), d.uid.value_or(0),
                    d.gid.value_or(0), options.bind_devices,
                    trees && i < trees->size() ? (*trees)[i] : -1);
    }
  }
  for (const auto &d : kDefaultDevices) {
    create_device(root_fd, d.path, S_IFCHR, makedev(d.major, d.minor), 0666, 0, 0,
                  options.bind_devices);
  }

  // Links only on a /dev of our own; a rootfs's own /dev keeps what it has.
  if (!mounts_type_at(spec, "/dev", "tmpfs")) return;
  UniqueFd dev = mkdir_all_in_root(root_fd, "/dev");
  make_link(dev.get(), "/proc/self/fd", "fd");
  make_link(dev.get(), "/proc/self/fd/0", "stdin");
  make_link(dev.get(), "/proc/self/fd/1", "stdout");
  make_link(dev.get(), "/proc/self/fd/2", "stderr");
  if (mounts_type_at(spec, "/dev/pts", "devpts")) make_link(dev.get(), "pts/ptmx", "ptmx");
  if (::access("/proc/kcore", F_OK) == 0) make_link(dev.get(), "/proc/kcore", "core");
}

}  // namespace urun::linux
