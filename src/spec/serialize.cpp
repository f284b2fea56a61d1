// The Spec model back to JSON (runtime-spec field names): what `urun spec` writes and what the
// state keeps of a config. The reading side is parse.cpp.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "spec/kernel_attrs.hpp"
#include "spec/spec.hpp"

namespace urun::spec {
namespace {

using nlohmann::json;

json id_mappings_to_json(const std::vector<IdMapping>& maps) {
  json out = json::array();
  for (const auto& m : maps)
    out.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
  return out;
}

json hooks_to_json(const std::vector<Hook>& hooks) {
  json out = json::array();
  for (const auto& h : hooks) {
    json e = {{"path", h.path}};
    if (!h.args.empty()) e["args"] = h.args;
    if (!h.env.empty()) e["env"] = h.env;
    if (h.timeout) e["timeout"] = *h.timeout;
    out.push_back(std::move(e));
  }
  return out;
}

json linux_to_json(const Linux& l) {
  json out = json::object();
  if (!l.namespaces.empty()) {
    json nss = json::array();
    for (const auto& ns : l.namespaces) {
      json e = {{"type", ns.type}};
      if (!ns.path.empty()) e["path"] = ns.path;
      nss.push_back(std::move(e));
    }
    out["namespaces"] = std::move(nss);
  }
  if (!l.uid_mappings.empty()) out["uidMappings"] = id_mappings_to_json(l.uid_mappings);
  if (!l.gid_mappings.empty()) out["gidMappings"] = id_mappings_to_json(l.gid_mappings);
  if (!l.time_offsets.empty()) {
    json offs = json::object();
    for (const auto& [clock, off] : l.time_offsets)
      offs[clock] = {{"secs", off.secs}, {"nanosecs", off.nanosecs}};
    out["timeOffsets"] = std::move(offs);
  }
  if (!l.devices.empty()) {
    json devs = json::array();
    for (const auto& d : l.devices) {
      json e = {{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
      if (d.file_mode) e["fileMode"] = *d.file_mode;
      if (d.uid) e["uid"] = *d.uid;
      if (d.gid) e["gid"] = *d.gid;
      devs.push_back(std::move(e));
    }
    out["devices"] = std::move(devs);
  }
  if (l.cgroups_path) out["cgroupsPath"] = *l.cgroups_path;
  if (!l.resources.is_null()) out["resources"] = l.resources;
  if (!l.rootfs_propagation.empty()) out["rootfsPropagation"] = l.rootfs_propagation;
  if (!l.masked_paths.empty()) out["maskedPaths"] = l.masked_paths;
  if (!l.readonly_paths.empty()) out["readonlyPaths"] = l.readonly_paths;
  if (!l.sysctl.empty()) out["sysctl"] = l.sysctl;
  if (!l.mount_label.empty()) out["mountLabel"] = l.mount_label;
  if (!l.seccomp.is_null()) out["seccomp"] = l.seccomp;
  if (l.personality) out["personality"] = to_json(*l.personality);
  if (l.memory_policy) out["memoryPolicy"] = to_json(*l.memory_policy);
  if (!l.intel_rdt.is_null()) out["intelRdt"] = l.intel_rdt;
  if (!l.net_devices.is_null()) out["netDevices"] = l.net_devices;
  return out;
}

}  // namespace

nlohmann::json process_to_json(const Process& p) {
  json out = json::object();
  out["terminal"] = p.terminal;
  if (p.console_size)
    out["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  if (p.user.umask) user["umask"] = *p.user.umask;
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  if (!p.user.username.empty()) user["username"] = p.user.username;
  out["user"] = std::move(user);
  out["args"] = p.args;
  if (!p.env.empty()) out["env"] = p.env;
  out["cwd"] = p.cwd;
  if (p.capabilities) {
    const Capabilities& c = *p.capabilities;
    out["capabilities"] = {{"bounding", c.bounding},
                           {"effective", c.effective},
                           {"inheritable", c.inheritable},
                           {"permitted", c.permitted},
                           {"ambient", c.ambient}};
  }
  if (!p.rlimits.empty()) {
    json rl = json::array();
    for (const auto& r : p.rlimits)
      rl.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    out["rlimits"] = std::move(rl);
  }
  if (p.no_new_privileges) out["noNewPrivileges"] = true;
  if (p.apparmor_profile) out["apparmorProfile"] = *p.apparmor_profile;
  if (p.selinux_label) out["selinuxLabel"] = *p.selinux_label;
  if (p.oom_score_adj) out["oomScoreAdj"] = *p.oom_score_adj;
  if (p.scheduler) out["scheduler"] = to_json(*p.scheduler);
  if (p.io_priority) out["ioPriority"] = to_json(*p.io_priority);
  if (p.exec_cpu_affinity) out["execCPUAffinity"] = to_json(*p.exec_cpu_affinity);
  return out;
}

nlohmann::json to_json(const Spec& spec) {
  json out = json::object();
  out["ociVersion"] = spec.oci_version;
  if (spec.process) out["process"] = process_to_json(*spec.process);
  json root = {{"path", spec.root.path}};
  if (spec.root.readonly) root["readonly"] = true;
  out["root"] = std::move(root);
  if (!spec.hostname.empty()) out["hostname"] = spec.hostname;
  if (!spec.domainname.empty()) out["domainname"] = spec.domainname;
  if (!spec.mounts.empty()) {
    json mounts = json::array();
    for (const auto& m : spec.mounts) {
      json e = {{"destination", m.destination}};
      if (!m.type.empty()) e["type"] = m.type;
      if (!m.source.empty()) e["source"] = m.source;
      if (!m.options.empty()) e["options"] = m.options;
      if (!m.uid_mappings.empty()) e["uidMappings"] = id_mappings_to_json(m.uid_mappings);
      if (!m.gid_mappings.empty()) e["gidMappings"] = id_mappings_to_json(m.gid_mappings);
      mounts.push_back(std::move(e));
    }
    out["mounts"] = std::move(mounts);
  }
  json hooks = json::object();
  auto add_hooks = [&](const char* key, const std::vector<Hook>& list) {
    if (!list.empty()) hooks[key] = hooks_to_json(list);
  };
  add_hooks("prestart", spec.hooks.prestart);
  add_hooks("createRuntime", spec.hooks.create_runtime);
  add_hooks("createContainer", spec.hooks.create_container);
  add_hooks("startContainer", spec.hooks.start_container);
  add_hooks("poststart", spec.hooks.poststart);
  add_hooks("poststop", spec.hooks.poststop);
  if (!hooks.empty()) out["hooks"] = std::move(hooks);
  if (!spec.annotations.empty()) out["annotations"] = spec.annotations;
  if (spec.linux) out["linux"] = linux_to_json(*spec.linux);
  return out;
}

}  // namespace urun::spec
