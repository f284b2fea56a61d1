#include "linux/mounts/live_mounts.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string_view>

#include "common/error.hpp"
#include "linux/path.hpp"
#include "linux/procfs.hpp"

namespace urun::linux {
namespace {

constexpr std::string_view kNamespacedTypes[] = {"proc",   "sysfs",   "mqueue",
                                                 "cgroup", "cgroup2", "devpts"};

long mount_setattr_fd(int fd, unsigned flags, mount_attr &attr) {
  return ::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | flags, &attr, sizeof attr);
}

// MS_* flags of mount(2) as the MOUNT_ATTR_* of mount_setattr(2).
uint64_t attrs_of(unsigned long flags) {
  uint64_t out = 0;
  if (flags & MS_RDONLY) out |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) out |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) out |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) out |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NODIRATIME) out |= MOUNT_ATTR_NODIRATIME;
  if (flags & MS_NOSYMFOLLOW) out |= MOUNT_ATTR_NOSYMFOLLOW;
  return out;
}

// The atime mode named by `flags`, or -1 for none.
int64_t atime_attr(unsigned long flags) {
  if (flags & MS_NOATIME) return MOUNT_ATTR_NOATIME;
  if (flags & MS_STRICTATIME) return MOUNT_ATTR_STRICTATIME;
  if (flags & MS_RELATIME) return MOUNT_ATTR_RELATIME;
  return -1;
}

void fsconfig(int fs, unsigned cmd, const char *key, const char *value, const std::string &what) {
  if (::syscall(SYS_fsconfig, fs, cmd, key, value, 0) < 0)
    throw_errno(what + (key ? ": filesystem option " + quote(key) : ": create the filesystem"));
}

}  // namespace

void check_live_mount(const spec::Mount &m, const MountOptions &opts, const std::string &what) {
  const std::string dest = clean_path(m.destination);
  const bool bind = opts.bind() || m.type == "bind";
  if (!bind) {
    if (m.type.empty() || m.type == "none")
      throw Error(what + ": no filesystem type and not a bind mount", EINVAL);
    for (auto t : kNamespacedTypes)
      if (m.type == t)
        throw Error(what + ": a " + m.type + " filesystem cannot be added to a running container",
                    EINVAL);
  }
  if (dest == "/proc" || (dest.starts_with("/proc/") && !proc_file_may_be_covered(dest)))
    throw Error(what + ": cannot be mounted on /proc or inside it", EPERM);
  if (opts.tmpcopyup || opts.copy_symlink)
    throw Error(what + ": " + (opts.tmpcopyup ? "tmpcopyup" : "copy-symlink") +
                    " is not supported on a running container",
                EINVAL);
}

UniqueFd make_filesystem_tree(const spec::Mount &m, const MountOptions &opts,
                              const std::string &what) {
  UniqueFd fs(static_cast<int>(::syscall(SYS_fsopen, m.type.c_str(), FSOPEN_CLOEXEC)));
  if (!fs) throw_errno(what + ": open a " + quote(m.type) + " filesystem");
  if (!m.source.empty()) fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", m.source.c_str(), what);
  const std::string &data = opts.data;
  for (size_t i = 0; i <= data.size();) {
    size_t j = data.find(',', i);
    if (j == std::string::npos) j = data.size();
    std::string option = data.substr(i, j - i);
    i = j + 1;
    if (option.empty()) continue;
    const size_t eq = option.find('=');
    if (eq == std::string::npos) {
      fsconfig(fs.get(), FSCONFIG_SET_FLAG, option.c_str(), nullptr, what);
    } else {
      const std::string key = option.substr(0, eq);
      fsconfig(fs.get(), FSCONFIG_SET_STRING, key.c_str(), option.c_str() + eq + 1, what);
    }
  }
  fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, what);
  UniqueFd tree(static_cast<int>(::syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, 0)));
  if (!tree) throw_errno(what + ": mount the new filesystem");
  return tree;
}

void set_tree_attributes(int tree_fd, const MountOptions &opts, const std::string &what) {
  const unsigned long wanted = opts.flags & ~opts.clear_flags;
  mount_attr top{};
  top.attr_set = attrs_of(wanted);
  top.attr_clr = attrs_of(opts.clear_flags);
  if (int64_t atime = atime_attr(wanted); atime >= 0) {
    top.attr_clr |= MOUNT_ATTR__ATIME;
    top.attr_set |= static_cast<uint64_t>(atime);
  }
  if ((top.attr_set | top.attr_clr) != 0 && mount_setattr_fd(tree_fd, 0, top) < 0)
    throw_errno(what + ": set mount flags");
  if ((opts.attr_set | opts.attr_clr) != 0) {
    mount_attr rec{};
    rec.attr_set = opts.attr_set;
    rec.attr_clr = opts.attr_clr;
    if (mount_setattr_fd(tree_fd, AT_RECURSIVE, rec) < 0)
      throw_errno(what + ": set recursive mount attributes");
  }
  for (unsigned long p : opts.propagation) {
    mount_attr prop{};
    prop.propagation = p & ~static_cast<unsigned long>(MS_REC);
    if (mount_setattr_fd(tree_fd, (p & MS_REC) ? AT_RECURSIVE : 0, prop) < 0)
      throw_errno(what + ": set propagation");
  }
}

void place_tree(int root_fd, int tree_fd, const std::string &dest, bool dest_nofollow,
                const std::string &what) {
  InRootEntry entry;
  try {
    entry = resolve_in_root(root_fd, clean_path(dest), true, !dest_nofollow);
  } catch (Error &e) {
    throw e.prepend(what);
  }
  if (entry.name.empty()) throw Error(what + ": the destination is the root of the container");
  struct stat tree_st {};
  if (::fstat(tree_fd, &tree_st) < 0) throw_errno(what);
  const char *name = entry.name.c_str();
  struct stat st {};
  if (::fstatat(entry.dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno != ENOENT) throw_errno(what);
    if (S_ISDIR(tree_st.st_mode)) {
      if (::mkdirat(entry.dir.get(), name, 0755) < 0 && errno != EEXIST)
        throw_errno(what + ": mkdir");
    } else {
      UniqueFd made(::openat(entry.dir.get(), name,
                             O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!made && errno != EEXIST) throw_errno(what + ": create the file to mount on");
    }
  }
  UniqueFd target(::openat(entry.dir.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target) throw_errno(what);
  // A destination that led into a procfs (a symlink in the rootfs) is refused as at create;
  // only the files lxcfs emulates may be covered, and only by their own names.
  const std::string clean = clean_path(dest);
  if (procfs_kind(target.get(), quote(dest)).procfs &&
      !(clean.starts_with("/proc/") && proc_file_may_be_covered(clean)))
    throw Error(what + ": the destination leads inside a procfs mount", EPERM);
  if (::syscall(SYS_move_mount, tree_fd, "", target.get(), "",
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    throw_errno(what + ": move the mount into place");
}

void unmount_in_root(int root_fd, const std::string &dest, bool dest_nofollow) {
  const std::string what = "unmount " + quote(dest);
  // The final component as it is first: a mount whose root is a symlink (src-nofollow), or one
  // on a symlink (dest-nofollow). When nothing is mounted on a symlink there and the mount did
  // not ask for dest-nofollow, it was made on the link's target, as at add.
  for (bool follow : {false, true}) {
    InRootEntry entry;
    try {
      entry = resolve_in_root(root_fd, clean_path(dest), false, follow);
    } catch (Error &e) {
      throw e.prepend(what);
    }
    if (entry.name.empty()) throw Error(what + ": the destination is the root of the container");
    // A name without '/' looked up from its own directory: nothing outside the root is reached.
    if (::fchdir(entry.dir.get()) < 0) throw_errno(what + ": enter its directory");
    if (::umount2(entry.name.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return;
    if (errno != EINVAL) throw_errno(what);
    struct stat st {};
    const bool link =
        ::fstatat(entry.dir.get(), entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode);
    if (follow || dest_nofollow || !link) break;
  }
  throw Error(what + ": nothing is mounted there", EINVAL);
}

}  // namespace urun::linux
