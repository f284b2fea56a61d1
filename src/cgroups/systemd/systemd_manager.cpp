#include "cgroups/systemd/systemd_manager.hpp"

#include <signal.h>

#include <cstdlib>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "cgroups/cgroupfs/cgroupfs_v1.hpp"
#include "cgroups/cgroupfs/cgroupfs_v2.hpp"
#include "cgroups/systemd/systemd_names.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace urun::cgroups {
namespace {

constexpr const char* kSystemdService = "org.freedesktop.systemd1";

Layout layout_from_name(const std::string& name) {
  for (Layout l : {Layout::unified, Layout::hybrid, Layout::legacy})
    if (layout_name(l) == name) return l;
  throw Error("unknown cgroup layout " + quote(name), EINVAL);
}

std::string join(const std::string& path, const std::string& child) {
  return child.empty() ? path : path + "/" + child;
}

}  // namespace

std::vector<systemd::Property> resource_properties(const Resources& r, bool unified) {
  std::vector<systemd::Property> out;
  if (r.memory) {
    if (r.memory->limit && *r.memory->limit > 0)
      out.push_back({"MemoryMax", static_cast<uint64_t>(*r.memory->limit)});
    if (r.memory->reservation && *r.memory->reservation > 0)
      out.push_back({"MemoryLow", static_cast<uint64_t>(*r.memory->reservation)});
  }
  if (r.pids && r.pids->limit > 0)
    out.push_back({"TasksMax", static_cast<uint64_t>(r.pids->limit)});
  if (r.cpu) {
    // shares 0 means "not set" to Docker and crun.
    if (r.cpu->shares && *r.cpu->shares > 0) {
      if (unified)
        out.push_back({"CPUWeight", cpu_shares_to_weight(*r.cpu->shares)});
      else
        out.push_back({"CPUShares", *r.cpu->shares});
    }
    if (r.cpu->quota && *r.cpu->quota > 0 && r.cpu->period && *r.cpu->period > 0) {
      // systemd takes the quota as CPU time per second, in steps of 10ms (1%):
      // round up, so the container never gets less than it asked for.
      uint64_t per_sec = static_cast<uint64_t>(*r.cpu->quota) * 1000000 / *r.cpu->period;
      if (per_sec % 10000) per_sec = (per_sec / 10000 + 1) * 10000;
      out.push_back({"CPUQuotaPerSecUSec", per_sec});
      out.push_back({"CPUQuotaPeriodUSec", *r.cpu->period});
    }
  }
  return out;
}

std::vector<systemd::Property> scope_properties(const SystemdConfig& c, pid_t pid,
                                                const Resources& r) {
  std::vector<systemd::Property> out = {
      {"Description", c.description},
      {"Slice", c.slice},
      // The scope's subtree is the runtime's (and the payload's): systemd must not
      // touch the cgroups below it.
      {"Delegate", true},
      // No ordering against shutdown.target & co: a container scope is not a service.
      {"DefaultDependencies", false},
      {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}},
  };
  if (r.memory) out.push_back({"MemoryAccounting", true});
  if (r.cpu) out.push_back({"CPUAccounting", true});
  if (r.block_io) out.push_back({"IOAccounting", true});
  if (r.pids) out.push_back({"TasksAccounting", true});
  for (auto& p : resource_properties(r, c.layout == Layout::unified)) out.push_back(std::move(p));
  return out;
}

Systemd::Systemd(SystemdConfig config, std::unique_ptr<systemd::Bus> bus)
    : config_(std::move(config)), bus_(std::move(bus)) {}

Systemd::~Systemd() = default;

systemd::Bus& Systemd::bus() {
  if (!bus_) bus_ = std::make_unique<systemd::Bus>(config_.bus_address);
  return *bus_;
}

std::string Systemd::path() const {
  if (inner_) return inner_->path();
  std::string scope = scope_;
  if (scope.empty()) {
    try {
      scope = systemd::expand_slice(config_.slice) + "/" + config_.unit;
    } catch (const Error&) {
      scope = "/" + config_.unit;
    }
  }
  return join(scope, config_.subgroup);
}

std::unique_ptr<Manager> Systemd::cgroupfs_in(const std::string& path) const {
  if (config_.layout == Layout::unified)
    // delegate_later is not in the state record: later commands find the init moved.
    return std::make_unique<CgroupfsV2>(config_.root, path, config_.delegate,
                                        config_.delegate_later);
  // systemd places the scope at the same path in every hierarchy it manages; the
  // controllers it does not manage get the same path too (as crun does).
  std::map<std::string, std::string> paths;
  for (const auto& h : list_hierarchies(config_.root)) paths[h.name] = path;
  return std::make_unique<CgroupfsV1>(config_.root, std::move(paths));
}

Manager& Systemd::inner(const char* what) {
  if (!inner_)
    throw Error(std::string(what) + ": the container's systemd scope " + quote(config_.unit) +
                    " was not started",
                ENOENT);
  return *inner_;
}

void Systemd::start_scope(pid_t pid) {
  const Resources none;
  bus().start_transient_unit(config_.unit,
                             scope_properties(config_, pid, pending_ ? *pending_ : none));
  started_ = true;
  scope_ = bus().control_group(config_.unit);
  log::debug("cgroup: systemd scope " + config_.unit + " at " + scope_);
  // Known only now (systemd chose it): a scope frozen through its slice holds the init
  // at its first step. On cgroup v2 the clean-up can still kill it there.
  for (const auto& dir : freezer_dirs(scope_)) detail::refuse_frozen(dir);
  const std::string path = join(scope_, config_.subgroup);
  inner_ = cgroupfs_in(path);
  if (config_.layout == Layout::unified) {
    // The no-internal-process rule: the scope can hand its controllers down only once
    // the init has left it for the sub-cgroup, so move first, then create() (which
    // enables the controllers of every ancestor).
    detail::make_cgroup_dirs(config_.root, join(path, config_.delegate));
    inner_->add_process(pid);
    inner_->create();
  } else {
    inner_->create();
    inner_->add_process(pid);
  }
  if (pending_) inner_->apply(*pending_);
  pending_.reset();
}

std::vector<std::string> Systemd::freezer_dirs(const std::string& path) const {
  if (config_.layout == Layout::unified) return {config_.root + path};
  std::vector<std::string> out;
  for (const char* h : {"freezer", "unified"})
    if (detail::exists(config_.root + "/" + h)) out.push_back(config_.root + "/" + h + path);
  return out;
}

void Systemd::claim() {
  std::string slice;
  try {
    slice = systemd::expand_slice(config_.slice);
  } catch (const Error&) {
    return;  // systemd names the problem when the scope is started
  }
  for (const auto& dir : freezer_dirs(slice)) detail::refuse_frozen(dir);
}

void Systemd::undo_create() {
  if (!started_) return;
  destroy();
  started_ = false;
}

void Systemd::add_process(pid_t pid) {
  if (inner_) return inner_->add_process(pid);
  start_scope(pid);
}

void Systemd::apply(const Resources& resources) {
  if (!inner_) {
    pending_ = resources;  // applied once the scope exists
    return;
  }
  auto props = resource_properties(resources, config_.layout == Layout::unified);
  if (!props.empty()) bus().set_unit_properties(config_.unit, props);
  inner_->apply(resources);
}

void Systemd::freeze() { inner("freeze").freeze(); }
void Systemd::thaw() { inner("thaw").thaw(); }
bool Systemd::is_frozen() { return inner_ && inner_->is_frozen(); }
std::vector<pid_t> Systemd::pids() { return inner_ ? inner_->pids() : std::vector<pid_t>{}; }
void Systemd::kill_all(int sig) {
  if (inner_) inner_->kill_all(sig);
}

void Systemd::destroy() {
  if (inner_) {
    try {
      if (!inner_->pids().empty()) inner_->kill_all(SIGKILL);
    } catch (const Error& e) {
      log::warning(std::string("cgroup: ") + e.what());
    }
  }
  // Stopping the scope makes systemd forget it and remove its cgroup. A systemd that
  // cannot be reached (gone since create) must not keep the directories behind.
  try {
    bus().stop_unit(config_.unit);
    bus().reset_failed_unit(config_.unit);
  } catch (const Error& e) {
    log::warning(std::string("cgroup: ") + e.what());
  }
  if (inner_) inner_->destroy();
  if (scope_.empty()) return;
  if (config_.layout == Layout::unified) {
    detail::remove_cgroup(config_.root + scope_);
  } else {
    for (const auto& h : list_hierarchies(config_.root))
      detail::remove_cgroup(config_.root + "/" + h.name + scope_);
  }
}

nlohmann::json Systemd::to_state() const {
  nlohmann::json j = {
      {"manager", "systemd"},         {"bus", config_.bus_address},
      {"root", config_.root},         {"layout", std::string(layout_name(config_.layout))},
      {"slice", config_.slice},       {"unit", config_.unit},
      {"subgroup", config_.subgroup}, {"scope", scope_}};
  if (!config_.delegate.empty()) j["delegate"] = config_.delegate;
  return j;
}

std::unique_ptr<Manager> Systemd::from_state(const nlohmann::json& state) {
  SystemdConfig c;
  c.bus_address = state.at("bus").get<std::string>();
  c.root = state.at("root").get<std::string>();
  c.layout = layout_from_name(state.at("layout").get<std::string>());
  c.slice = state.at("slice").get<std::string>();
  c.unit = state.at("unit").get<std::string>();
  c.subgroup = state.value("subgroup", std::string());
  c.delegate = state.value("delegate", std::string());
  auto m = std::make_unique<Systemd>(std::move(c));
  m->scope_ = state.value("scope", std::string());
  if (!m->scope_.empty()) m->inner_ = m->cgroupfs_in(join(m->scope_, m->config_.subgroup));
  return m;
}

std::unique_ptr<Manager> make_systemd_manager(const ManagerRequest& req, bool automatic,
                                              std::string& reason) {
  const auto& cp = req.cgroups_path;
  if (automatic && cp && !cp->empty() && !systemd::is_systemd_cgroups_path(*cp)) {
    reason = "cgroupsPath " + quote(*cp) + " is not slice:prefix:name";
    return nullptr;
  }
  systemd::UnitPlace place;
  try {
    place = systemd::place_from_cgroups_path(cp, req.container_id, req.rootless);
  } catch (const Error& e) {
    // Chosen automatically, a path only cgroupfs can use (a .slice name) falls back.
    if (!automatic) throw;
    reason = e.what();
    return nullptr;
  }

  const std::string address = systemd::bus_address(
      req.systemd_bus, req.rootless, [](const char* name) { return std::getenv(name); });
  if (address.empty()) {
    reason = "no user bus (XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS are not set)";
    return nullptr;
  }
  // The cheap test first: without systemd as init there is no systemd to ask, and
  // the automatic choice should not pay for a bus connection to find that out.
  if (automatic && req.systemd_bus.empty() && !detail::exists("/run/systemd/system")) {
    reason = "the host does not run systemd (no /run/systemd/system)";
    return nullptr;
  }
  const std::string socket = systemd::bus_socket_path(address);
  if (!socket.empty() && !detail::exists(socket)) {
    reason = "no systemd bus at " + socket;
    return nullptr;
  }

  Layout layout;
  try {
    layout = req.layout ? *req.layout : detect_layout(req.root);
  } catch (const Error& e) {
    reason = e.what();
    return nullptr;
  }
  if (req.rootless && layout != Layout::unified) {
    reason = "systemd delegates cgroups to unprivileged users only on cgroup v2 (this host is " +
             std::string(layout_name(layout)) + ")";
    return nullptr;
  }
  if (!req.delegate_cgroup.empty() && layout != Layout::unified)
    throw Error("run.oci.delegate-cgroup: supported only on cgroup v2 (this host is " +
                    std::string(layout_name(layout)) + ")",
                ENOTSUP);

  std::unique_ptr<systemd::Bus> bus;
  try {
    bus = std::make_unique<systemd::Bus>(address);
    if (!bus->name_has_owner(kSystemdService)) {
      reason = std::string(kSystemdService) + " is not on the bus at " + address;
      return nullptr;
    }
  } catch (const Error& e) {
    reason = e.what();
    return nullptr;
  }

  SystemdConfig c;
  c.bus_address = address;
  c.root = req.root;
  c.layout = layout;
  c.slice = place.slice;
  c.unit = place.unit;
  c.subgroup = systemd::subgroup_name(req.systemd_subgroup, layout == Layout::unified);
  c.delegate = req.delegate_cgroup;
  c.delegate_later = req.delegate_after_cgroupns;
  c.description = "urun container " + req.container_id;
  return std::make_unique<Systemd>(std::move(c), std::move(bus));
}

}  // namespace urun::cgroups
