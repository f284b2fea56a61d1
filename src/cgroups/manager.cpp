// Host layout detection and cgroup path choice (the factory: cgroups/factory.cpp).
#include "cgroups/manager.hpp"

#include <dirent.h>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "common/error.hpp"

namespace urun::cgroups {

using detail::FsType;

void Disabled::freeze() {
  throw Error("freeze: the container has no cgroup (cgroup manager disabled)", ENOTSUP);
}

std::string_view layout_name(Layout layout) {
  switch (layout) {
    case Layout::unified:
      return "unified";
    case Layout::hybrid:
      return "hybrid";
    case Layout::legacy:
      return "legacy";
  }
  return "unknown";
}

Layout detect_layout(const std::string& root) {
  switch (detail::fs_type(root)) {
    case FsType::cgroup2:
      return Layout::unified;
    case FsType::missing:
      throw_errno("detect cgroup layout of " + quote(root));
    case FsType::cgroup1:
      break;  // a single v1 hierarchy mounted at the root itself: not a layout we manage
    case FsType::other:
      if (detail::fs_type(root + "/unified") == FsType::cgroup2) return Layout::hybrid;
      if (DIR* d = ::opendir(root.c_str())) {
        bool v1 = false;
        for (dirent* e; !v1 && (e = ::readdir(d));) {
          const std::string name = e->d_name;
          v1 = name != "." && name != ".." && detail::fs_type(root + "/" + name) == FsType::cgroup1;
        }
        ::closedir(d);
        if (v1) return Layout::legacy;
      }
      break;
  }
  throw Error("detect cgroup layout of " + quote(root) + ": no cgroup file system mounted there",
              ENOENT);
}

std::string normalize_cgroup_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      if (parts.empty())
        throw Error("cgroupsPath " + quote(path) + ": leaves the cgroup tree", EINVAL);
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    pos = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::string resolve_cgroup_path(const std::optional<std::string>& cgroups_path,
                                const std::string& own_cgroup, const std::string& container_id) {
  if (!cgroups_path || cgroups_path->empty()) {
    if (container_id.empty() || container_id.find('/') != std::string::npos ||
        container_id == "." || container_id == "..")
      throw Error("container id " + quote(container_id) + ": not usable as a cgroup name", EINVAL);
    return "/urun/" + container_id;
  }
  const std::string& p = *cgroups_path;
  try {
    return normalize_cgroup_path(p.front() == '/' ? p : own_cgroup + "/" + p);
  } catch (const Error& e) {
    throw Error("cgroupsPath " + quote(p) + ": leaves the cgroup tree", EINVAL);
  }
}

}  // namespace urun::cgroups
