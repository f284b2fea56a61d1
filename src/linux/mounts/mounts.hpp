#pragma once
// Spec mounts: what a mount's option list means (pure, unit-tested) and how
// one mount is performed inside the rootfs. Runs in the container init before
// pivot_root; rootfs.cpp drives it.
#include <sys/mount.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spec/spec.hpp"

namespace urun::linux {

// A spec mount's options sorted by who consumes them. Later options win over
// earlier ones ("ro,rw" is rw), as with mount(8).
struct MountOptions {
  unsigned long flags = 0;        // MS_* set for mount(2), including MS_BIND and MS_REC (rbind)
  unsigned long clear_flags = 0;  // MS_* explicitly turned off: rw, suid, dev, exec, atime...
  // Propagation changes in the order given, e.g. MS_REC | MS_PRIVATE for
  // "rprivate".
  std::vector<unsigned long> propagation;
  // crun's r$FLAG: MOUNT_ATTR_* applied with mount_setattr(AT_RECURSIVE). An
  // atime change also puts all of MOUNT_ATTR__ATIME in attr_clr, as the kernel
  // requires.
  uint64_t attr_set = 0;
  uint64_t attr_clr = 0;
  std::string data;  // filesystem options, comma separated: "mode=755,size=65536k"
  // urun/crun extensions.
  bool tmpcopyup = false;        // tmpfs: copy the covered directory's contents into it
  bool copy_symlink = false;     // bind of a symlink: recreate the link instead of mounting
  bool idmap = false;            // "idmap" or "idmap=...": an id-mapped bind mount
  bool idmap_recursive = false;  // "ridmap": the same for every submount
  std::string idmap_spec;        // raw text after "idmap=", e.g.
                                 // "uids=0-1-10#10-11-10;gids=0-100-10"
  // crun's nofollow pair: a symlink source is bound itself, not its target (src-nofollow); a
  // symlink destination is covered itself instead of being followed inside the rootfs
  // (dest-nofollow).
  bool src_nofollow = false;
  bool dest_nofollow = false;

  bool bind() const { return (flags & MS_BIND) != 0; }
  bool rbind() const { return (flags & (MS_BIND | MS_REC)) == (MS_BIND | MS_REC); }
};

// Whether spec mount `m` is an id-mapped bind mount: the `idmap`/`ridmap` option, or mappings of
// its own (runtime-spec: with uidMappings/gidMappings the runtime MUST make an idmapped mount).
// Its tree always comes from the runtime (runtime/idmapped_mounts.hpp).
bool is_idmapped(const spec::Mount &m, const MountOptions &opts);

// Parses a spec mount's option list. Unknown options go to `data` unchanged
// (the filesystem decides); never throws.
MountOptions parse_mount_options(const std::vector<std::string> &options);

// Every option parse_mount_options applies (flags, propagation, r$FLAG, tmpcopyup,
// copy-symlink, idmap, ridmap): what `features` lists under mountOptions.
std::vector<std::string> known_mount_options();
// The options accepted and ignored (crun's r$FLAG words without a mount attribute).
bool is_ignored_mount_option(std::string_view name);

// The MS_* propagation value of "private", "rshared", ...; 0 when `name` is not
// one.
unsigned long propagation_flags(std::string_view name);

// Whether a spec mount may cover the /proc file `dest` (a clean absolute path): only those
// lxcfs emulates and the two runc also allows (/proc/meminfo, /proc/sys/kernel/ns_last_pid...).
// Nothing else is mounted below /proc, and only a procfs on it.
bool proc_file_may_be_covered(std::string_view dest);

struct CgroupMountPlan;  // linux/mounts/cgroup_mount.hpp

// What mount_one needs to know about the container and where it is.
struct MountContext {
  int root_fd = -1;         // O_PATH fd of the rootfs (after it was bound onto itself)
  bool in_user_ns = false;  // flags of host mounts are locked: remounts must keep them
  bool rootless = false;    // no privileges on the host at all
  bool new_net_ns = false;  // sysfs can be mounted only with our own network namespace
  bool new_cgroup_ns = false;
  // What a `cgroup` mount shows (linux/mounts/cgroup_mount.hpp); null: nothing known,
  // the runtime's own cgroups are shown.
  const CgroupMountPlan *cgroup = nullptr;
  // For a bind mount, where its source comes from when it was not looked up here
  // (linux/mounts/bind_sources.hpp): a detached tree the parent made, moved into place (an `idmap`
  // mount's id-mapped tree, or a clone of a source the init was refused), or the source the init
  // opened before it took its user namespace's ids. -1: the source is opened by path.
  int source_tree_fd = -1;
  int source_fd = -1;
  // run.oci.systemd.force_cgroup_v1: the destination that gets a name=systemd v1
  // hierarchy instead of its mount (linux/mounts/systemd_cgroup_v1_mount.hpp); "" for none.
  std::string systemd_cgroup_v1;
  // linux.mountLabel where the host runs SELinux (linux/mounts/mount_label.hpp); "" otherwise.
  std::string mount_label;
};

// Performs one spec mount inside the rootfs: resolves and creates the
// destination inside it, mounts on /proc/self/fd/N of that destination, then
// applies remount flags, propagation and recursive attributes. Refuses what
// may not cover /proc (proc_file_may_be_covered) and a proc or sysfs mount, or
// any on /proc or /sys, through a symlink of the rootfs. Throws
// Error("mount `src` on `dest`: reason").
void mount_one(const spec::Mount &mount, const MountContext &context);

// The option's propagation changes, in order, on the mount at mounted_fd.
void apply_propagation(int mounted_fd, const MountOptions &opts, const std::string &what);
// mount_setattr(AT_RECURSIVE) with the r$FLAG attributes; nothing when both
// are 0.
void apply_recursive_attrs(int mounted_fd, uint64_t set, uint64_t clr, const std::string &what);

// The MS_* flags of the mount holding `fd` that a bind remount must repeat
// (nosuid, nodev, noexec, rdonly and the atime mode), read with fstatvfs. In
// a user namespace the kernel locks them on mounts inherited from the host, and
// a remount that drops one fails with EPERM.
unsigned long mount_flags_of(int fd);

// Bind-remounts the mount at `fd` (the root of a mount) with `flags`, keeping
// the locked ones when in_user_ns (and all current ones if the kernel still
// says EPERM). `path` names the same mount for use after pivot_root when the
// container has no /proc. Throws Error naming `what`.
void remount_bind(int fd, unsigned long flags, bool in_user_ns, const std::string &what,
                  const std::string &path = "");

}  // namespace urun::linux
