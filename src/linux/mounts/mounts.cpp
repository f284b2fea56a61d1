#include "linux/mounts/mounts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "common/error.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/cgroup_mount.hpp"
#include "linux/mounts/mount_label.hpp"
#include "linux/mounts/systemd_cgroup_v1_mount.hpp"
#include "linux/mounts/tmpcopyup.hpp"
#include "linux/path.hpp"
#include "linux/procfs.hpp"

namespace urun::linux {
namespace {

// The mount-level flags a bind remount can change.
constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
constexpr unsigned long kPerMountFlags =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | MS_NOSYMFOLLOW | kAtimeFlags;

void append_data(std::string &data, std::string_view option) {
  if (!data.empty()) data += ',';
  data += option;
}

long sys_mount_setattr(int dirfd, const char *path, unsigned int flags, struct mount_attr *attr) {
  return ::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr);
}

std::string describe(const std::string &source, const std::string &dest) {
  return "mount " + quote(source) + " on " + quote(dest);
}

void do_mount(const std::string &source, int target_fd, const char *type, unsigned long flags,
              const std::string &data, const std::string &what) {
  std::string target = fd_path(target_fd);
  if (::mount(source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) <
      0) {
    throw_errno(what);
  }
}

// ---- /proc ----------------------------------------------------------------------------------
// A procfs is what the runtime writes sysctls through and what maskedPaths protect: a mount on
// /proc must be a procfs, and below it only files that lxcfs (or the like) emulate may be
// covered, as in runc. Checked on the destination as written (before it is resolved) and on
// where it led (a symlink in the rootfs, or a procfs mounted earlier).

constexpr std::string_view kCoverableProcFiles[] = {
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
};

[[noreturn]] void only_procfs_on_proc(const std::string &what) {
  throw Error(what + ": only procfs may be mounted on /proc", EPERM);
}

// `procfs`: the mount gives a procfs (type proc; for a bind, its source is checked later).
void check_proc_destination(const std::string &dest, bool procfs, const std::string &what) {
  if (dest == "/proc") {
    if (!procfs) only_procfs_on_proc(what);
  } else if (dest.starts_with("/proc/") && !proc_file_may_be_covered(dest)) {
    throw Error(what + ": cannot be mounted inside /proc (of /proc only files such as " +
                    "/proc/meminfo that lxcfs emulates may be covered)",
                EPERM);
  }
}

// Where a destination lives inside the rootfs, and the fd a mount goes on.
struct Target {
  InRootEntry entry;
  UniqueFd fd;         // O_PATH: the directory or file about to be covered
  ProcfsKind covered;  // what fd is on: a procfs already mounted there or above

  // After a mount on fd_path(fd), fd still names the covered inode; a lookup
  // of the name in its directory crosses into the new mount on top of it.
  UniqueFd mounted(const std::string &what) const {
    UniqueFd out(::openat(entry.dir.get(), entry.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!out) throw_errno(what + ": open the new mount");
    return out;
  }
};

// `ordinary_dir`: procfs and sysfs, and whatever goes on /proc or /sys, are mounted only on a
// directory of the rootfs, never through a symlink there (runc's rule): a /proc that is a link
// would put the container's procfs (and its masked paths) somewhere else.
// `follow_last` false (dest-nofollow): a symlink at the destination is itself covered.
Target prepare_target(int root_fd, const std::string &dest, bool is_dir, const std::string &what,
                      bool ordinary_dir = false, bool follow_last = true) {
  Target t;
  try {
    t.entry = resolve_in_root(root_fd, dest, true, follow_last && !ordinary_dir);
  } catch (Error &e) {
    throw e.prepend(what);
  }
  // Only "/" or a link to it gets here; covering the whole rootfs is not a
  // mount we support.
  if (t.entry.name.empty()) throw Error(what + ": the destination is the root of the container");
  const char *name = t.entry.name.c_str();
  int dir = t.entry.dir.get();
  struct stat st = t.entry.entry_stat;  // as the walk found it, when it did
  const bool exists = t.entry.entry || ::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && ordinary_dir && !S_ISDIR(st.st_mode)) {
    throw Error(what + ": must be mounted on an ordinary directory, but " + quote(dest) +
                    " in the rootfs is " + (S_ISLNK(st.st_mode) ? "a symlink" : "not a directory"),
                ENOTDIR);
  }
  if (!exists) {
    if (errno != ENOENT) throw_errno(what);
    if (is_dir) {
      if (::mkdirat(dir, name, 0755) < 0 && errno != EEXIST) throw_errno(what + ": mkdir");
    } else {
      UniqueFd made(
          ::openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!made && errno != EEXIST) throw_errno(what + ": create the file to mount on");
    }
  }
  if (t.entry.entry) {
    // What the walk opened, and whose stat was checked above: the inode the mount goes on.
    t.fd = std::move(t.entry.entry);
  } else {
    t.fd.reset(::openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!t.fd) throw_errno(what);
    // Checked again on what was opened: the rootfs may change under us.
    if (ordinary_dir && (::fstat(t.fd.get(), &st) < 0 || !S_ISDIR(st.st_mode)))
      throw Error(what + ": must be mounted on an ordinary directory", ENOTDIR);
  }
  t.covered = procfs_kind(t.fd.get(), quote(dest));
  return t;
}

// Where the destination led: the top of a procfs takes only a procfs; inside one, only the
// files check_proc_destination allowed by name.
void check_proc_target(const Target &t, const std::string &dest, bool procfs,
                       const std::string &what) {
  if (!t.covered.procfs) return;
  if (t.covered.root) {
    if (!procfs) only_procfs_on_proc(what);
  } else if (!dest.starts_with("/proc/")) {
    throw Error(what + ": the destination leads inside a procfs mount", EPERM);
  }
}

// The fresh-mount flags: propagation and bind bits are separate calls.
unsigned long mount_flags(const MountOptions &opts) {
  return opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
}

// ---- mount types ----------------------------------------------------------

void mount_copy_symlink(const spec::Mount &m, int src_fd, const MountContext &ctx,
                        const std::string &what) {
  std::string link(PATH_MAX, '\0');
  ssize_t n = ::readlinkat(src_fd, "", link.data(), link.size());
  if (n < 0) throw_errno(what + ": readlink");
  link.resize(static_cast<size_t>(n));
  InRootEntry entry = resolve_in_root(ctx.root_fd, clean_path(m.destination), true, false);
  if (entry.name.empty()) throw Error(what + ": the destination is the root of the container");
  if (::symlinkat(link.c_str(), entry.dir.get(), entry.name.c_str()) == 0) return;
  if (errno != EEXIST) throw_errno(what + ": symlink");
  std::string existing(PATH_MAX, '\0');
  n = ::readlinkat(entry.dir.get(), entry.name.c_str(), existing.data(), existing.size());
  if (n < 0 || existing.substr(0, static_cast<size_t>(n)) != link) {
    throw Error(what + ": the destination exists and is not a symlink to " + quote(link), EEXIST);
  }
}

void mount_bind(const spec::Mount &m, const MountOptions &opts, const MountContext &ctx,
                const std::string &dest, const std::string &what) {
  if (m.source.empty()) throw Error(what + ": a bind mount needs a source", EINVAL);
  // The source is opened once and mounted from its fd, so what was checked is
  // what is mounted.
  UniqueFd opened;
  int src = ctx.source_tree_fd >= 0 ? ctx.source_tree_fd : ctx.source_fd;
  if (src < 0) {
    opened = open_bind_source(m, opts);
    if (!opened) throw_errno(what);
    src = opened.get();
  }
  struct stat st;
  if (::fstat(src, &st) < 0) throw_errno(what);
  // Only copy-symlink and src-nofollow open a symlink source as itself; the second binds it.
  if (S_ISLNK(st.st_mode) && opts.copy_symlink) return mount_copy_symlink(m, src, ctx, what);
  const bool proc_or_sys = dest == "/proc" || dest == "/sys";
  // A mount on /proc/self/fd/N of an O_PATH|O_NOFOLLOW symlink fd covers the link itself: the
  // kernel does not follow a magic link's target further, which is what dest-nofollow needs.
  Target target = prepare_target(ctx.root_fd, dest, S_ISDIR(st.st_mode), what, proc_or_sys,
                                 !opts.dest_nofollow);
  if (dest == "/proc" || target.covered.procfs) {
    // A bind gives a procfs only when its source is the root of one.
    const bool procfs = procfs_kind(src, quote(m.source)).root;
    if (dest == "/proc" && !procfs) only_procfs_on_proc(what);
    check_proc_target(target, dest, procfs, what);
  }
  if (is_idmapped(m, opts) && ctx.source_tree_fd < 0) {
    // An id-mapped mount must be made by a process privileged over the source
    // filesystem: the parent makes it as a detached tree.
    throw Error(what + ": idmap: no id-mapped tree was prepared", ENOTSUP);
  }
  if (ctx.source_tree_fd >= 0) {
    // Both ends by fd: a "/proc/self/fd/N" target would not be followed.
    if (::syscall(SYS_move_mount, ctx.source_tree_fd, "", target.fd.get(), "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      throw_errno(what + (is_idmapped(m, opts) ? ": move id-mapped mount into place"
                                               : ": move the source's clone into place"));
  } else {
    do_mount(fd_path(src), target.fd.get(), nullptr, MS_BIND | (opts.flags & MS_REC), "", what);
  }
  UniqueFd mounted = target.mounted(what);
  // MS_BIND ignores every other flag: a second call applies them.
  if (opts.flags & kPerMountFlags) {
    remount_bind(mounted.get(), opts.flags & ~opts.clear_flags, ctx.in_user_ns, what);
  }
  apply_propagation(mounted.get(), opts, what);
  apply_recursive_attrs(mounted.get(), opts.attr_set, opts.attr_clr, what);
}

// Binds a host directory in place of a filesystem we may not mount
// (sysfs without a network namespace, mqueue, cgroup2 without privileges):
// the bind is made read-only/nosuid/... on every submount, since a remount
// only reaches the top one.
void bind_host_fallback(const std::string &host_path, const Target &target, unsigned long flags,
                        const MountContext &ctx, const std::string &what) {
  UniqueFd src(::open(host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!src) throw_errno(what + ": open " + quote(host_path) + " for the bind fallback");
  do_mount(fd_path(src.get()), target.fd.get(), nullptr, MS_BIND | MS_REC, "", what);
  UniqueFd mounted = target.mounted(what);
  uint64_t set = 0;
  if (flags & MS_RDONLY) set |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) set |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) set |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) set |= MOUNT_ATTR_NOEXEC;
  struct mount_attr attr = {};
  attr.attr_set = set;
  if (set != 0 && sys_mount_setattr(mounted.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) == 0) {
    return;
  }
  if (set != 0 && errno != ENOSYS) throw_errno(what + ": set recursive mount attributes");
  if (flags & kPerMountFlags) remount_bind(mounted.get(), flags, ctx.in_user_ns, what);
}

void mount_filesystem(const spec::Mount &m, const MountOptions &opts, const MountContext &ctx,
                      const std::string &dest, const std::string &what) {
  const std::string &type = m.type;
  Target target =
      prepare_target(ctx.root_fd, dest, true, what,
                     type == "proc" || type == "sysfs" || dest == "/proc" || dest == "/sys");
  check_proc_target(target, dest, type == "proc", what);
  if (!ctx.systemd_cgroup_v1.empty() && dest == clean_path(ctx.systemd_cgroup_v1))
    return mount_systemd_cgroup_v1(target.fd.get(), mount_flags(opts), what);
  if (type == "cgroup" || type == "cgroup2") {
    CgroupMountTarget where{target.entry.dir.get(), target.entry.name, target.fd.get()};
    return mount_cgroup_tree(opts, ctx, where, what);
  }

  const std::string source = m.source.empty() ? type : m.source;
  UniqueFd covered;
  if (opts.tmpcopyup) {
    covered.reset(::openat(target.entry.dir.get(), target.entry.name.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!covered) throw_errno(what + ": tmpcopyup: open the covered directory");
  }
  std::string data = with_mount_label(opts.data, type, ctx.mount_label);
  const std::string t = fd_path(target.fd.get());
  auto try_mount = [&] {
    return ::mount(source.c_str(), t.c_str(), type.c_str(), mount_flags(opts),
                   data.empty() ? nullptr : data.c_str());
  };
  int rc = try_mount();
  if (rc < 0 && type == "devpts" && errno == EINVAL && ctx.in_user_ns &&
      data.find("gid=") != std::string::npos) {
    // gid=5 fails when group 5 is not mapped into the user namespace; crun
    // drops it too.
    std::string kept;
    size_t i = 0;
    while (i <= opts.data.size()) {
      size_t j = opts.data.find(',', i);
      if (j == std::string::npos) j = opts.data.size();
      std::string_view opt(opts.data.data() + i, j - i);
      if (!opt.empty() && opt.substr(0, 4) != "gid=") append_data(kept, opt);
      i = j + 1;
    }
    data = kept;
    rc = try_mount();
  }
  if (rc < 0) {
    int err = errno;
    if (type == "sysfs" && (err == EPERM || err == EBUSY)) {
      // sysfs needs a network namespace of our own; crun binds the host's
      // instead.
      return bind_host_fallback("/sys", target,
                                mount_flags(opts) | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                ctx, what);
    }
    if (type == "mqueue" && err == EPERM && (ctx.rootless || ctx.in_user_ns)) {
      return bind_host_fallback("/dev/mqueue", target,
                                mount_flags(opts) | MS_NOSUID | MS_NODEV | MS_NOEXEC, ctx, what);
    }
    throw_errno(what, err);
  }
  // The new mount's own fd only for what acts on it (most filesystem mounts need none).
  if (!opts.tmpcopyup && opts.propagation.empty() && opts.attr_set == 0 && opts.attr_clr == 0)
    return;
  UniqueFd mounted = target.mounted(what);
  if (opts.tmpcopyup) {
    UniqueFd to(::openat(mounted.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!to) throw_errno(what + ": tmpcopyup: open the new mount");
    try {
      copy_tree(covered.get(), to.get());
      // The tmpfs root takes the covered directory's owner, and its mode unless
      // mode= was given.
      struct stat st;
      if (::fstat(covered.get(), &st) == 0) {
        if (::fchown(to.get(), st.st_uid, st.st_gid) < 0 && errno != EPERM && errno != EINVAL) {
          throw_errno("tmpcopyup: chown");
        }
        if (data.find("mode=") == std::string::npos) ::fchmod(to.get(), st.st_mode & 07777);
      }
    } catch (Error &e) {
      throw e.prepend(what);
    }
  }
  apply_propagation(mounted.get(), opts, what);
  apply_recursive_attrs(mounted.get(), opts.attr_set, opts.attr_clr, what);
}

}  // namespace

void apply_propagation(int mounted_fd, const MountOptions &opts, const std::string &what) {
  std::string target = fd_path(mounted_fd);
  for (unsigned long p : opts.propagation) {
    if (::mount(nullptr, target.c_str(), nullptr, p, nullptr) < 0) {
      throw_errno(what + ": set propagation");
    }
  }
}

void apply_recursive_attrs(int mounted_fd, uint64_t set, uint64_t clr, const std::string &what) {
  if (set == 0 && clr == 0) return;
  struct mount_attr attr = {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  if (sys_mount_setattr(mounted_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0) {
    if (errno == ENOSYS) {
      throw Error(what + ": recursive mount options need mount_setattr (Linux 5.12)", ENOSYS);
    }
    throw_errno(what + ": set recursive mount attributes");
  }
}

bool proc_file_may_be_covered(std::string_view dest) {
  for (auto file : kCoverableProcFiles)
    if (file == dest) return true;
  return false;
}

bool is_idmapped(const spec::Mount &m, const MountOptions &opts) {
  return opts.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty();
}

unsigned long mount_flags_of(int fd) {
  struct statvfs sv;
  if (::fstatvfs(fd, &sv) < 0) throw_errno("statvfs of a mount");
  unsigned long flags = 0;
  if (sv.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_NOATIME) {
    flags |= MS_NOATIME;
  } else if (sv.f_flag & ST_RELATIME) {
    flags |= MS_RELATIME;
  } else {
    // Without a flag the kernel would pick relatime; a strictatime mount must
    // say so.
    flags |= MS_STRICTATIME;
  }
  return flags;
}

void remount_bind(int fd, unsigned long flags, bool in_user_ns, const std::string &what,
                  const std::string &path) {
  const unsigned long current = mount_flags_of(fd);
  unsigned long wanted = flags & kPerMountFlags;
  // Keep the current atime mode unless the options chose one: a remount
  // without one means relatime, and a locked atime mode may not change.
  if (!(wanted & kAtimeFlags)) wanted |= current & kAtimeFlags;
  if (in_user_ns) wanted |= current & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  const std::string target =
      path.empty() || ::access("/proc/self/fd", X_OK) == 0 ? fd_path(fd) : path;
  auto remount = [&](unsigned long f) {
    return ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | f, nullptr);
  };
  if (remount(wanted) == 0) return;
  // EPERM: the kernel locked flags of a host mount (user namespace); keep them
  // all.
  if (errno == EPERM && remount((wanted & ~kAtimeFlags) | current) == 0) {
    return;
  }
  throw_errno(what + ": remount");
}

void mount_one(const spec::Mount &m, const MountContext &ctx) {
  const std::string dest = clean_path(m.destination);
  const MountOptions opts = parse_mount_options(m.options);
  const std::string source = !m.source.empty() ? m.source : m.type;
  const std::string what = describe(source, dest);
  const bool bind = opts.bind() || m.type == "bind";
  check_proc_destination(dest, bind || m.type == "proc", what);
  if (bind) return mount_bind(m, opts, ctx, dest, what);
  if (m.type.empty() || m.type == "none") {
    throw Error(what + ": no filesystem type and not a bind mount", EINVAL);
  }
  mount_filesystem(m, opts, ctx, dest, what);
}

}  // namespace urun::linux
