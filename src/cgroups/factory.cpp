// The manager factory: which manager a container gets, and the one rebuilt from its record.
#include "cgroups/factory.hpp"

#include <sys/stat.h>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "cgroups/cgroupfs/cgroupfs_v1.hpp"
#include "cgroups/cgroupfs/cgroupfs_v2.hpp"
#include "cgroups/systemd/systemd_manager.hpp"
#include "cgroups/systemd/systemd_names.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"

namespace urun::cgroups {
namespace {

using detail::exists;
using detail::FsType;

// Whether uid may create a directory in dir. Group bits are ignored: cgroup delegation
// hands directories to a user, not to a group.
// Asked only for rootless callers: uid 0 here is root in a user namespace (rootless Podman's),
// which sees the host's cgroup directories as owned by the overflow uid.
bool writable_by(const std::string& dir, uid_t uid) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) return false;
  if (st.st_uid == uid) return (st.st_mode & S_IWUSR) != 0;
  return (st.st_mode & S_IWOTH) != 0;
}

// The directory a mkdir of root + path would write into: its deepest existing part.
std::string deepest_existing(const std::string& root, const std::string& path) {
  std::string cur = root + (path == "/" ? "" : path);
  while (cur.size() > root.size() && !exists(cur)) cur.erase(cur.rfind('/'));
  return cur;
}

}  // namespace

ManagerChoice make_manager(const ManagerRequest& req) {
  ManagerChoice out;
  if (req.kind == "disabled") {
    out.manager = std::make_unique<Disabled>();
    return out;
  }
  const bool automatic = req.kind.empty() || req.kind == "auto";
  if (!automatic && req.kind != "systemd" && req.kind != "cgroupfs")
    throw Error("cgroup manager " + quote(req.kind) + ": must be systemd, cgroupfs or disabled",
                EINVAL);
  std::optional<std::string> cgroups_path = req.cgroups_path;
  if (automatic || req.kind == "systemd") {
    std::string reason;
    out.manager = make_systemd_manager(req, automatic, reason);
    if (out.manager) return out;
    // Asked for by name, systemd must be there (as crun fails without a bus).
    if (!automatic) throw Error("cgroup manager `systemd`: not available: " + reason, EHOSTDOWN);
    out.reasons.push_back("systemd: not available: " + reason);
    if (cgroups_path) cgroups_path = systemd::cgroupfs_path_for(*cgroups_path, req.rootless);
  }
  // A root container must get the cgroup it asked for; a rootless one runs without.
  auto unavailable = [&](const std::string& reason) {
    out.reasons.push_back("cgroupfs: " + reason);
    if (!req.rootless) throw Error("cgroupfs: " + reason, EACCES);
    out.manager = std::make_unique<Disabled>();
    return std::move(out);
  };

  Layout layout;
  try {
    layout = req.layout ? *req.layout : detect_layout(req.root);
  } catch (const Error& e) {
    return unavailable(e.what());
  }
  std::map<std::string, std::string> own;
  if (exists(req.proc_self_cgroup)) own = parse_proc_cgroup(fs::read_file(req.proc_self_cgroup));
  auto own_path = [&](const std::string& key) {
    auto it = own.find(key);
    return it == own.end() ? std::string("/") : it->second;
  };
  // Without a cgroupsPath a rootless container can only go below the caller's own
  // cgroup, which is writable when it was delegated (systemd user sessions).
  auto choose = [&](const std::string& key) {
    if (req.rootless && (!cgroups_path || cgroups_path->empty()))
      return resolve_cgroup_path("urun-" + req.container_id, own_path(key), req.container_id);
    return resolve_cgroup_path(cgroups_path, own_path(key), req.container_id);
  };
  auto check_writable = [&](const std::string& tree_root, const std::string& path) {
    if (!req.rootless) return true;
    return writable_by(deepest_existing(tree_root, path), req.uid);
  };
  auto not_writable = [&](const std::string& tree_root, const std::string& path) {
    return quote(deepest_existing(tree_root, path)) + " not writable by uid " +
           std::to_string(req.uid);
  };

  if (layout == Layout::unified) {
    const std::string path = choose("");
    if (!check_writable(req.root, path)) return unavailable(not_writable(req.root, path));
    out.manager = std::make_unique<CgroupfsV2>(req.root, path, req.delegate_cgroup,
                                               req.delegate_after_cgroupns);
    return out;
  }
  if (!req.delegate_cgroup.empty())
    throw Error("run.oci.delegate-cgroup: supported only on cgroup v2 (this host is " +
                    std::string(layout_name(layout)) + ")",
                ENOTSUP);
  std::map<std::string, std::string> paths;
  for (const auto& h : list_hierarchies(req.root)) {
    const std::string path = choose(proc_cgroup_key(h));
    const std::string tree = req.root + "/" + h.name;
    if (!check_writable(tree, path)) return unavailable(not_writable(tree, path));
    paths[h.name] = path;
  }
  if (paths.empty()) return unavailable("no cgroup hierarchy under " + quote(req.root));
  out.manager = std::make_unique<CgroupfsV1>(req.root, std::move(paths));
  return out;
}

ManagerChoice make_manager(const std::string& kind, const std::string& root,
                           const std::optional<std::string>& cgroups_path,
                           const std::string& container_id, bool rootless) {
  ManagerRequest req;
  req.kind = kind;
  req.root = root;
  req.cgroups_path = cgroups_path;
  req.container_id = container_id;
  req.rootless = rootless;
  return make_manager(req);
}

std::unique_ptr<Manager> manager_from_state(const nlohmann::json& state) {
  try {
    const std::string manager = state.at("manager").get<std::string>();
    if (manager == "disabled") return std::make_unique<Disabled>();
    if (manager == "systemd") return Systemd::from_state(state);
    if (manager != "cgroupfs") throw Error("unknown manager " + quote(manager), EINVAL);
    const std::string root = state.at("root").get<std::string>();
    if (state.at("layout").get<std::string>() == "unified")
      return std::make_unique<CgroupfsV2>(root, state.at("path").get<std::string>(),
                                          state.value("delegate", std::string()));
    return std::make_unique<CgroupfsV1>(
        root, state.at("paths").get<std::map<std::string, std::string>>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("cgroup state: ") + e.what(), EINVAL);
  } catch (Error& e) {
    e.prepend("cgroup state");
    throw;
  }
}

}  // namespace urun::cgroups
