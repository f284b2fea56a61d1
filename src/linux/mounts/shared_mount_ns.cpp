#include "linux/mounts/shared_mount_ns.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "linux/path.hpp"

namespace urun::linux {
namespace {

std::string counted(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Whether `path` names an entry inside root_fd other than the root itself. A final symlink
// counts as existing: the mount that hides it would follow it.
bool exists_in_root(int root_fd, const std::string& path) {
  InRootEntry entry;
  try {
    entry = resolve_in_root(root_fd, path, false, true);
  } catch (const Error& e) {
    if (e.code() == ENOENT || e.code() == ENOTDIR) return false;
    throw;
  }
  if (entry.name.empty()) return true;
  struct stat st;
  if (::fstatat(entry.dir.get(), entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  throw_errno("stat " + quote(path) + " in the rootfs");
}

void refuse_existing(int root_fd, const std::vector<std::string>& paths, const char* field,
                     const char* action) {
  for (const std::string& p : paths) {
    const std::string path = clean_path(p);
    if (!exists_in_root(root_fd, path)) continue;
    throw Error(std::string(field) + ": " + quote(path) + " exists in the rootfs and cannot be " +
                    action +
                    " without the container's own mount namespace (the mount would change the "
                    "host's mount table); add a \"mount\" entry to linux.namespaces",
                EPERM);
  }
}

}  // namespace

std::string unapplied_mount_settings(const spec::Spec& spec) {
  std::vector<std::string> parts;
  if (!spec.mounts.empty()) parts.push_back(counted(spec.mounts.size(), "mount", "mounts"));
  if (spec.linux) {
    if (!spec.linux->devices.empty())
      parts.push_back(
          counted(spec.linux->devices.size(), "linux.devices entry", "linux.devices entries"));
    if (!spec.linux->rootfs_propagation.empty()) parts.push_back("linux.rootfsPropagation");
  }
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text += i + 1 == parts.size() ? " and " : ", ";
    text += parts[i];
  }
  return text;
}

void enter_rootfs_by_chroot(const std::string& rootfs) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("open the rootfs " + quote(rootfs));
  // By fd, so the directory checked is the one entered.
  if (::fchdir(root.get()) < 0) throw_errno("chdir to the rootfs " + quote(rootfs));
  if (::chroot(".") < 0) throw_errno("chroot into the rootfs " + quote(rootfs));
  if (::chdir("/") < 0) throw_errno("chdir to `/` of the container");
}

void refuse_paths_to_hide(const spec::Spec& spec) {
  if (!spec.linux) return;
  if (spec.linux->masked_paths.empty() && spec.linux->readonly_paths.empty()) return;
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("open `/`");
  refuse_existing(root.get(), spec.linux->masked_paths, "maskedPaths", "masked");
  refuse_existing(root.get(), spec.linux->readonly_paths, "readonlyPaths", "made read-only");
}

}  // namespace urun::linux
