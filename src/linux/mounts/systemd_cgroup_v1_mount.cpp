#include "linux/mounts/systemd_cgroup_v1_mount.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace urun::linux {
namespace {

unsigned int mount_attrs(unsigned long ms_flags) {
  unsigned int attr = 0;
  if (ms_flags & MS_NOSUID) attr |= MOUNT_ATTR_NOSUID;
  if (ms_flags & MS_NODEV) attr |= MOUNT_ATTR_NODEV;
  if (ms_flags & MS_NOEXEC) attr |= MOUNT_ATTR_NOEXEC;
  if (ms_flags & MS_RDONLY) attr |= MOUNT_ATTR_RDONLY;
  return attr;
}

// A detached mount of fs_type made with the new mount API (no path is resolved, so the
// pieces are put together before anything appears in the container's tree).
UniqueFd detached_mount(const char* fs_type,
                        const std::vector<std::pair<const char*, const char*>>& params,
                        unsigned int attrs, const std::string& what) {
  UniqueFd fs(::fsopen(fs_type, FSOPEN_CLOEXEC));
  if (!fs) throw_errno(what + ": fsopen " + fs_type);
  for (const auto& [key, value] : params) {
    int rc = value ? ::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0)
                   : ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, key, nullptr, 0);
    if (rc < 0) throw_errno(what + ": " + fs_type + " option " + key);
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    throw_errno(what + ": create the " + std::string(fs_type) + " file system");
  UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, attrs));
  if (!mnt) throw_errno(what + ": fsmount " + fs_type);
  return mnt;
}

}  // namespace

void mount_systemd_cgroup_v1(int target_fd, unsigned long ms_flags, const std::string& what) {
  const unsigned int attrs = mount_attrs(ms_flags);
  UniqueFd tmpfs = detached_mount("tmpfs", {{"size", "1024k"}, {"mode", "0755"}},
                                  attrs & ~MOUNT_ATTR_RDONLY, what);
  if (::mkdirat(tmpfs.get(), "systemd", 0755) < 0) throw_errno(what + ": mkdir systemd");
  UniqueFd cgroup =
      detached_mount("cgroup", {{"none", nullptr}, {"name", "systemd"}, {"xattr", nullptr}}, attrs,
                     what + ": cgroup name=systemd");
  if (::move_mount(cgroup.get(), "", tmpfs.get(), "systemd", MOVE_MOUNT_F_EMPTY_PATH) < 0)
    throw_errno(what + ": attach the name=systemd hierarchy");
  if (attrs & MOUNT_ATTR_RDONLY) {
    struct mount_attr ro {};
    ro.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(tmpfs.get(), "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
      throw_errno(what + ": make the tmpfs read-only");
  }
  if (::move_mount(tmpfs.get(), "", target_fd, "",
                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    throw_errno(what + ": move the mount into place");
}

}  // namespace urun::linux
