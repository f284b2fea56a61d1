#include "linux/mounts/cgroup_mount.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <vector>

#include "common/error.hpp"
#include "common/proc_cgroup.hpp"
#include "common/unique_fd.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/path.hpp"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace urun::linux {
namespace {

constexpr const char *kHostCgroup = "/sys/fs/cgroup";
constexpr unsigned long kBase = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// A mount point: where to mount (fd) and how to find the new mount afterwards.
struct Spot {
  int dir_fd;
  std::string name;
  int fd;

  UniqueFd mounted(const std::string &what) const {
    UniqueFd out(::openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!out) throw_errno(what + ": open the new mount");
    return out;
  }
};

int try_mount(const char *source, int target_fd, const char *type, unsigned long flags,
              const char *data) {
  const std::string target = fd_path(target_fd);
  return ::mount(source, target.c_str(), type, flags, data);
}

// Sets flags on the bind at `mounted` and every mount below it (a remount
// reaches only the top one); remount_bind where mount_setattr is missing.
void restrict_bind(int mounted, unsigned long flags, const MountContext &ctx,
                   const std::string &what) {
  struct mount_attr attr = {};
  if (flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
  if (::syscall(SYS_mount_setattr, mounted, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) ==
      0)
    return;
  if (errno != ENOSYS) throw_errno(what + ": set mount attributes");
  remount_bind(mounted, flags, ctx.in_user_ns, what);
}

// Binds the cgroup `path` of the hierarchy at host_dir (a host path) on the
// spot. A path that does not exist there means the runtime itself runs in a
// container whose hierarchy root is already its cgroup: that root is bound, as
// crun does.
void bind_cgroup(const std::string &host_dir, const std::string &path, const Spot &spot,
                 unsigned long flags, const MountContext &ctx, const std::string &what) {
  std::string source = host_dir + (path == "/" ? "" : path);
  UniqueFd src(::open(source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!src && errno == ENOENT) {
    source = host_dir;
    src.reset(::open(source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  if (!src) throw_errno(what + ": open " + quote(source));
  if (try_mount(fd_path(src.get()).c_str(), spot.fd, nullptr, MS_BIND | MS_REC, nullptr) < 0)
    throw_errno(what + ": bind " + quote(source));
  UniqueFd mounted = spot.mounted(what);
  restrict_bind(mounted.get(), flags, ctx, what);
}

// The options of a fresh v1 mount of the hierarchy mounted at `dir`: its
// controllers, or the name of a named one (systemd's).
std::string v1_mount_data(const std::string &dir) {
  if (dir == "systemd") return "none,name=systemd";
  return dir;
}

// A v1 or hybrid host: a tmpfs with one entry per host hierarchy.
void mount_v1(const MountOptions &opts, const MountContext &ctx, const Spot &target,
              unsigned long flags, bool ro, const std::string &what) {
  // The tmpfs stays writable until its directories and links exist.
  if (try_mount("tmpfs", target.fd, "tmpfs", kBase, "mode=755") < 0) throw_errno(what);
  UniqueFd mounted = target.mounted(what);
  UniqueFd top(::openat(mounted.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  UniqueFd host(::open(kHostCgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!top || !host) throw_errno(what + ": open " + quote(kHostCgroup));
  struct stat host_st;
  if (::fstat(host.get(), &host_st) < 0) throw_errno(what);

  const bool own = ctx.cgroup != nullptr && ctx.cgroup->own;
  // Hierarchies are the host's directories that are their own filesystem (not
  // the links cpu -> cpu,cpuacct: those are made below).
  std::vector<std::string> hierarchies;
  {
    DIR *d = ::fdopendir(::fcntl(host.get(), F_DUPFD_CLOEXEC, 0));
    if (d == nullptr) throw_errno(what + ": read " + quote(kHostCgroup));
    while (struct dirent *ent = ::readdir(d)) {
      if (ent->d_name[0] == '.') continue;
      struct stat st;
      if (::fstatat(host.get(), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
      if (S_ISDIR(st.st_mode) && st.st_dev != host_st.st_dev) hierarchies.emplace_back(ent->d_name);
    }
    ::closedir(d);
  }

  for (const std::string &name : hierarchies) {
    const std::string sub_what = what + ": " + quote(std::string(kHostCgroup) + "/" + name);
    if (::mkdirat(top.get(), name.c_str(), 0755) < 0) throw_errno(sub_what + ": mkdir");
    UniqueFd sub(::openat(top.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) throw_errno(sub_what);
    Spot spot{top.get(), name, sub.get()};
    if (ctx.new_cgroup_ns) {
      // In its own cgroup namespace a fresh mount shows the container's cgroup
      // as the root. v1 refuses that inside a user namespace (EPERM), and
      // options that differ from the host's mount give EBUSY: bind instead.
      struct statfs hfs;
      const bool unified = ::statfs((std::string(kHostCgroup) + "/" + name).c_str(), &hfs) == 0 &&
                           hfs.f_type == CGROUP2_SUPER_MAGIC;
      const std::string data = unified ? std::string() : v1_mount_data(name);
      if (try_mount(unified ? "cgroup2" : "cgroup", sub.get(), unified ? "cgroup2" : "cgroup",
                    flags, data.empty() ? nullptr : data.c_str()) == 0)
        continue;
    }
    std::string path = "/";
    if (ctx.cgroup != nullptr) {
      auto it = ctx.cgroup->paths.find(name);
      if (it != ctx.cgroup->paths.end()) path = it->second;
    }
    try {
      bind_cgroup(std::string(kHostCgroup) + "/" + name, path, spot, flags, ctx, sub_what);
    } catch (const Error &) {
      // Without a cgroup of its own the container only gets a view of the
      // runtime's: a hierarchy that cannot be shown stays an empty directory
      // rather than failing the container.
      if (own) throw;
    }
  }

  // cpu -> cpu,cpuacct and the like, as runc makes them.
  std::set<std::string> present(hierarchies.begin(), hierarchies.end());
  for (const std::string &name : hierarchies) {
    if (name.find(',') == std::string::npos) continue;
    size_t pos = 0;
    while (pos <= name.size()) {
      size_t end = name.find(',', pos);
      if (end == std::string::npos) end = name.size();
      const std::string part = name.substr(pos, end - pos);
      pos = end + 1;
      if (part.empty() || present.count(part)) continue;
      if (::symlinkat(name.c_str(), top.get(), part.c_str()) < 0 && errno != EEXIST)
        throw_errno(what + ": symlink " + quote(part));
    }
  }
  if (ro) remount_bind(mounted.get(), kBase | MS_RDONLY, ctx.in_user_ns, what);
  apply_propagation(mounted.get(), opts, what);
}

// A unified host: cgroup2 itself or a bind of the container's cgroup.
void mount_v2(const MountOptions &opts, const MountContext &ctx, const Spot &target,
              unsigned long flags, const std::string &what) {
  const bool own = ctx.cgroup != nullptr && ctx.cgroup->own;
  std::string path = "/";
  if (own) {
    auto it = ctx.cgroup->paths.find("");
    if (it != ctx.cgroup->paths.end()) path = it->second;
  }
  // With its own cgroup namespace the fresh mount's root is the container's
  // cgroup. Without one it would be the host's whole tree (crun mounts it
  // anyway): a bind of the container's cgroup shows only its own. A container
  // without a cgroup gets what crun gives it: cgroup2 where the kernel allows
  // the mount, else a bind of the host's tree.
  if (ctx.new_cgroup_ns || !own) {
    const char *data = opts.data.empty() ? nullptr : opts.data.c_str();
    if (try_mount("cgroup2", target.fd, "cgroup2", flags, data) == 0) {
      UniqueFd mounted = target.mounted(what);
      apply_propagation(mounted.get(), opts, what);
      apply_recursive_attrs(mounted.get(), opts.attr_set, opts.attr_clr, what);
      return;
    }
    // No privileges for it (a user namespace without a cgroup namespace of
    // its own): the bind below, which is also the fallback for any other
    // error when the container has no cgroup to show anyway.
    if (own && errno != EPERM && errno != EBUSY) throw_errno(what);
  }
  try {
    bind_cgroup(kHostCgroup, path, target, flags, ctx, what);
  } catch (const Error &) {
    if (own) throw;
    return;  // no cgroup of its own and no view of the host's: left empty (see mount_v1)
  }
  UniqueFd mounted = target.mounted(what);
  apply_propagation(mounted.get(), opts, what);
  apply_recursive_attrs(mounted.get(), opts.attr_set, opts.attr_clr, what);
}

}  // namespace

std::string cgroup_hierarchy_dir(std::string_view key, bool unified_host) {
  if (key.empty()) return unified_host ? "" : "unified";
  if (key.substr(0, 5) == "name=") return std::string(key.substr(5));
  // The kernel's order and the usual mount point's differ for these two.
  if (key == "cpuacct,cpu") return "cpu,cpuacct";
  if (key == "net_prio,net_cls") return "net_cls,net_prio";
  return std::string(key);
}

CgroupMountPlan cgroup_plan_from_proc(std::string_view text, bool unified_host) {
  CgroupMountPlan plan;
  for (const auto &[key, path] : parse_proc_cgroup(text)) {
    // A unified host has only the "0::" line; a v1 line there means nothing.
    if (unified_host && !key.empty()) continue;
    plan.paths[cgroup_hierarchy_dir(key, unified_host)] = path;
  }
  return plan;
}

std::string encode_cgroup_plan(const CgroupMountPlan &plan) {
  std::string out(plan.own ? "1" : "0");
  for (const auto &[dir, path] : plan.paths) {
    out += '\0';
    out += dir;
    out += '\0';
    out += path;
  }
  return out;
}

CgroupMountPlan decode_cgroup_plan(std::string_view payload) {
  auto bad = [] { return Error("malformed cgroup mount plan on the sync channel", EPROTO); };
  if (payload.empty() || (payload[0] != '0' && payload[0] != '1')) throw bad();
  CgroupMountPlan plan;
  plan.own = payload[0] == '1';
  std::vector<std::string_view> fields;
  size_t pos = 1;
  while (pos < payload.size()) {
    if (payload[pos] != '\0') throw bad();
    const size_t end = std::min(payload.find('\0', pos + 1), payload.size());
    fields.push_back(payload.substr(pos + 1, end - pos - 1));
    pos = end;
  }
  if (fields.size() % 2 != 0) throw bad();
  for (size_t i = 0; i < fields.size(); i += 2)
    plan.paths[std::string(fields[i])] = std::string(fields[i + 1]);
  return plan;
}

void mount_cgroup_tree(const MountOptions &opts, const MountContext &ctx,
                       const CgroupMountTarget &where, const std::string &what) {
  struct statfs host;
  if (::statfs(kHostCgroup, &host) < 0) throw_errno(what + ": statfs " + quote(kHostCgroup));
  // Read-only unless the options say rw; nosuid, nodev and noexec always.
  const bool ro = !(opts.clear_flags & MS_RDONLY);
  unsigned long flags = (opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) | kBase;
  if (ro) flags |= MS_RDONLY;
  Spot target{where.dir_fd, where.name, where.fd};
  if (host.f_type == CGROUP2_SUPER_MAGIC) return mount_v2(opts, ctx, target, flags, what);
  mount_v1(opts, ctx, target, flags, ro, what);
}

}  // namespace urun::linux
