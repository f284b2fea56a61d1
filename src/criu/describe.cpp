#include "criu/describe.hpp"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/path.hpp"

namespace urun::criu {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3') {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

bool is_bind(const spec::Mount& m) {
  return linux::is_bind_mount(m, linux::parse_mount_options(m.options));
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> out;
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::stringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    // id parent dev root mount-point options [optional...] - type source super
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 1 >= f.size()) continue;
    out.push_back({unescape(f[4]), unescape(f[3]), f[dash + 1]});
  }
  return out;
}

std::vector<std::string> bind_mount_points(const spec::Spec& spec) {
  std::vector<std::string> out;
  for (const auto& m : spec.mounts)
    if (is_bind(m)) out.push_back(linux::clean_path(m.destination));
  return out;
}

Externals host_backed_mounts(const spec::Spec& spec, const std::vector<MountEntry>& mounts) {
  auto binds = bind_mount_points(spec);
  std::set<std::string> named(binds.begin(), binds.end());
  Externals out;
  for (const auto& m : mounts) {
    // A whole filesystem (root "/") CRIU mounts again itself: the container's
    // own cgroup namespace view, its /dev tmpfs.
    if (named.count(m.mount_point) || m.root == "/") continue;
    if (m.fs_type == "devtmpfs") {
      out.devices[m.mount_point] = "/dev" + m.root;
    } else if (m.fs_type == "cgroup" || m.fs_type == "cgroup2") {
      const std::string base = "/sys/fs/cgroup";
      std::string hierarchy;
      if (m.mount_point.size() > base.size() + 1 &&
          m.mount_point.compare(0, base.size() + 1, base + "/") == 0)
        hierarchy = m.mount_point.substr(base.size() + 1);
      out.cgroups[m.mount_point] = {hierarchy, m.root};
    }
  }
  return out;
}

std::vector<std::string> dump_mount_args(const spec::Spec& spec, const Externals& externals) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& point) {
    // The key is the mount point itself: a restore, perhaps of another
    // bundle, finds it in its own config.
    out.push_back("--external");
    out.push_back("mnt[" + point + "]:" + point);
  };
  for (const auto& point : bind_mount_points(spec)) add(point);
  for (const auto& entry : externals.devices) add(entry.first);
  for (const auto& entry : externals.cgroups) add(entry.first);
  return out;
}

std::vector<std::string> restore_mount_args(const spec::Spec& spec, const std::string& bundle_dir,
                                            const Externals& externals,
                                            const std::map<std::string, std::string>& cgroup_dirs) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& point, const std::string& source) {
    out.push_back("--external");
    out.push_back("mnt[" + point + "]:" + source);
  };
  for (const auto& m : spec.mounts) {
    if (!is_bind(m)) continue;
    std::string source = m.source;
    if (source.empty() || source[0] != '/') source = bundle_dir + "/" + source;
    add(linux::clean_path(m.destination), source);
  }
  for (const auto& [point, host] : externals.devices) add(point, host);
  for (const auto& [point, bind] : externals.cgroups) {
    auto dir = cgroup_dirs.find(bind.hierarchy);
    add(point,
        dir != cgroup_dirs.end() ? dir->second : "/sys/fs/cgroup/" + bind.hierarchy + bind.path);
  }
  return out;
}

std::map<std::string, std::string> joined_namespaces(const spec::Spec& spec) {
  std::map<std::string, std::string> out;
  if (!spec.linux) return out;
  for (const auto& ns : spec.linux->namespaces)
    if (!ns.path.empty()) out[ns.type] = ns.path;
  return out;
}

std::vector<std::string> restore_join_ns_args(const spec::Spec& spec) {
  std::vector<std::string> out;
  for (const auto& [type, path] : joined_namespaces(spec)) {
    if (type != "ipc" && type != "uts" && type != "time") continue;
    out.push_back("--join-ns");
    out.push_back(type + ":" + path);
  }
  return out;
}

std::string externals_to_json(const Externals& externals) {
  nlohmann::json j;
  j["devices"] = externals.devices;
  j["cgroups"] = nlohmann::json::object();
  for (const auto& [point, bind] : externals.cgroups)
    j["cgroups"][point] = {bind.hierarchy, bind.path};
  return j.dump() + "\n";
}

Externals externals_from_json(const std::string& text, const std::string& what) {
  try {
    auto j = nlohmann::json::parse(text);
    Externals out;
    out.devices = j.at("devices").get<std::map<std::string, std::string>>();
    for (const auto& [point, bind] : j.at("cgroups").items())
      out.cgroups[point] = {bind.at(0).get<std::string>(), bind.at(1).get<std::string>()};
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw Error("read " + quote(what) + ": " + e.what(), EINVAL);
  }
}

}  // namespace urun::criu
