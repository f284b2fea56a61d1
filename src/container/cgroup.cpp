#include "container/cgroup.hpp"

#include <sys/statfs.h>

#include <cstdio>

#include "cgroups/factory.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"

namespace urun::container {
namespace {

// Limits that need a cgroup to be honoured. Device rules are left out: the
// container's /dev is built from the config anyway, and every default config
// carries a "deny all" rule that would otherwise warn on each rootless run.
bool has_limits(const cgroups::Resources& r) {
  return r.memory || r.cpu || r.pids || r.block_io || !r.hugepage_limits.empty() || r.network ||
         !r.rdma.empty() || !r.unified.empty();
}

void allow_device(cgroups::Resources& r, const std::string& type, int64_t major,
                  std::optional<int64_t> minor) {
  cgroups::DeviceRule rule;
  rule.allow = true;
  rule.type = type;
  rule.major = major;
  rule.minor = minor;
  rule.access = "rwm";
  r.devices.push_back(std::move(rule));
}

// The default root keeps the plain id (what users and tools expect to find);
// another root gets a short hash of its path appended.
std::string default_cgroup_name(const std::string& id, const std::string& state_root) {
  if (state_root == "/run/urun") return id;
  uint32_t h = 2166136261u;  // FNV-1a: stable across runs and builds
  for (unsigned char ch : state_root) h = (h ^ ch) * 16777619u;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%08x", h);
  return id + suffix;
}

bool has_cgroup_mount(const spec::Spec& spec) {
  for (const auto& m : spec.mounts)
    if (m.type == "cgroup" || m.type == "cgroup2") return true;
  return false;
}

}  // namespace

std::vector<cgroups::DeviceRule> default_device_rules() {
  // runc's and crun's (1.20+) list, in their order, appended after the config's rules so
  // that a "deny all" there leaves them allowed. mknod of any node ("c *:* m", "b *:* m")
  // lets an image's own tooling create nodes it cannot then open; the rest are the nodes
  // every container has (null, random, full, tty, zero, urandom, console, pts/*, ptmx) and
  // /dev/net/tun, which container networking (slirp4netns, VPNs) opens inside.
  struct Rule {
    char type;
    int64_t major, minor;  // -1: any
    const char* access;
  };
  static constexpr Rule kRules[] = {
      {'c', -1, -1, "m"}, {'b', -1, -1, "m"},    {'c', 1, 3, "rwm"}, {'c', 1, 8, "rwm"},
      {'c', 1, 7, "rwm"}, {'c', 5, 0, "rwm"},    {'c', 1, 5, "rwm"}, {'c', 1, 9, "rwm"},
      {'c', 5, 1, "rwm"}, {'c', 136, -1, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 10, 200, "rwm"},
  };
  std::vector<cgroups::DeviceRule> out;
  for (const Rule& r : kRules) {
    cgroups::DeviceRule rule;
    rule.allow = true;
    rule.type = std::string(1, r.type);
    if (r.major >= 0) rule.major = r.major;
    if (r.minor >= 0) rule.minor = r.minor;
    rule.access = r.access;
    out.push_back(std::move(rule));
  }
  return out;
}

void add_default_devices(cgroups::Resources& r, const spec::Spec* spec) {
  // The config's linux.devices are created in the container: they must be usable too.
  if (spec && spec->linux) {
    for (const auto& d : spec->linux->devices)
      if (d.type != "p") allow_device(r, d.type == "u" ? "c" : d.type, d.major, d.minor);
  }
  for (auto& rule : default_device_rules()) r.devices.push_back(std::move(rule));
}

cgroups::Resources container_resources(const spec::Spec& spec) {
  cgroups::Resources r =
      cgroups::parse_resources(spec.linux ? spec.linux->resources : nlohmann::json());
  add_default_devices(r, &spec);
  return r;
}

std::unique_ptr<cgroups::Manager> choose_cgroup(const GlobalOptions& global, const spec::Spec& spec,
                                                const cgroups::Resources& resources,
                                                const std::string& id,
                                                const std::string& state_root, bool rootless) {
  if (global.cgroup_manager == "disabled") return std::make_unique<cgroups::Disabled>();
  cgroups::ManagerRequest req;
  // No choice given: the best available, falling back as it must.
  req.kind = global.cgroup_manager.empty() ? "auto" : global.cgroup_manager;
  req.cgroups_path = spec.linux ? spec.linux->cgroups_path : std::nullopt;
  req.container_id = default_cgroup_name(id, state_root);
  req.rootless = rootless;
  if (const auto* d = spec.annotation("run.oci.delegate-cgroup")) req.delegate_cgroup = *d;
  if (spec.linux)
    for (const auto& ns : spec.linux->namespaces)
      req.delegate_after_cgroupns |= ns.type == "cgroup" && ns.path.empty();
  if (const auto* s = spec.annotation("run.oci.systemd.subgroup")) req.systemd_subgroup = *s;
  // A rootless caller without the cgroup it asked for lacks delegation (or a systemd
  // user session): its set-up, not the config.
  cgroups::ManagerChoice choice = with_hint(rootless ? Hint::rootless_setup : Hint::none,
                                            [&] { return cgroups::make_manager(req); });
  for (const auto& reason : choice.reasons) log::debug("cgroup manager: " + reason);
  if (choice.manager->kind() == "disabled") {
    std::string why = choice.reasons.empty() ? "no usable cgroup" : choice.reasons.back();
    if (req.cgroups_path)
      throw Error("linux.cgroupsPath " + quote(*req.cgroups_path) +
                      ": cgroups are not available (" + why + ")",
                  EPERM)
          .set_hint(Hint::rootless_setup);
    if (has_limits(resources))
      log::warning("cgroups are not available (" + why + "): resource limits are not applied");
    return std::move(choice.manager);
  }
  log::debug("cgroup manager: " + choice.manager->kind() + " at " + choice.manager->path());
  return std::move(choice.manager);
}

void setup_cgroup(cgroups::Manager& cgroup, const cgroups::Resources& resources) {
  if (cgroup.kind() == "disabled") return;
  cgroup.create();
  try {
    // Never adopt a cgroup that runs something, or a frozen one; refused, it is left
    // exactly as it was (undo_create removes only what create() made).
    cgroup.claim();
    cgroup.apply(resources);
  } catch (...) {
    undo_cgroup(cgroup);
    throw;
  }
}

void undo_cgroup(cgroups::Manager& cgroup) noexcept {
  try {
    cgroup.undo_create();
  } catch (const std::exception& e) {
    log::warning("remove cgroup of failed create: " + std::string(e.what()));
  }
}

linux::CgroupMountPlan cgroup_mount_plan(const cgroups::Manager& cgroup, const spec::Spec& spec) {
  if (!has_cgroup_mount(spec) || cgroup.paths_after_join()) return {};
  linux::CgroupMountPlan plan;
  plan.paths = cgroup.hierarchy_paths();
  plan.own = !plan.paths.empty();
  if (plan.own) return plan;
  // The init stays in the runtime's cgroups: show those, as crun does.
  try {
    struct statfs st {};
    const bool unified = ::statfs(cgroups::kDefaultRoot, &st) == 0 && st.f_type == 0x63677270;
    plan = linux::cgroup_plan_from_proc(fs::read_file("/proc/self/cgroup"), unified);
  } catch (const Error& e) {
    log::debug("cgroup mount: " + std::string(e.what()));
  }
  plan.own = false;
  return plan;
}

bool cgroup_mount_plan_after_join(const cgroups::Manager& cgroup, const spec::Spec& spec) {
  return cgroup.paths_after_join() && has_cgroup_mount(spec);
}

std::unique_ptr<cgroups::Manager> cgroup_of(const state::Record& record) {
  if (!record.cgroup.is_object()) return std::make_unique<cgroups::Disabled>();
  return cgroups::manager_from_state(record.cgroup);
}

}  // namespace urun::container
