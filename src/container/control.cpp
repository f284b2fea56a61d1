// pause, resume, ps and update: the operations that act through the
// container's cgroup.
#include <unistd.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cgroups/resources.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "container/cgroup.hpp"
#include "container/operations.hpp"
#include "container/processes.hpp"
#include "container/status.hpp"
#include "linux/resctrl.hpp"
#include "spec/json_document.hpp"
#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {
namespace {

struct LockedRecord {
  state::ContainerDir dir;  // holds the lock
  state::Record record;
};

// The record of a container whose status is one of `allowed`, with the lock
// still held, else an Error saying what it is instead.
LockedRecord locked_record_in_status(const GlobalOptions& global, const std::string& id,
                                     std::initializer_list<const char*> allowed, bool exclusive) {
  state::validate_id(id);
  state::StateStore store(state_root(global.root));
  state::ContainerDir dir = store.open(id, exclusive);
  if (!dir.has_record()) throw Error("container " + quote(id) + " is still being created", EBUSY);
  state::Record rec = dir.read();
  std::string status = current_status(rec);
  for (const char* ok : allowed)
    if (status == ok) return LockedRecord{std::move(dir), std::move(rec)};
  throw Error("container " + quote(id) + " is " + status, EINVAL);
}

state::Record record_in_status(const GlobalOptions& global, const std::string& id,
                               std::initializer_list<const char*> allowed) {
  return locked_record_in_status(global, id, allowed, false).record;
}

// The config the container was created with (the copy in its state dir).
std::optional<spec::Spec> config_at_create(const GlobalOptions& global, const std::string& id) {
  state::StateStore store(state_root(global.root));
  state::ContainerDir dir = store.open(id, false);
  auto text = dir.read_config();
  if (!text) return std::nullopt;
  return spec::parse(*text);
}

}  // namespace

void pause(const GlobalOptions& global, const std::string& id) {
  // Exclusive and held while freezing: an exec holds the lock shared until its
  // process has exec'd, so no process is frozen half-started (see exec.cpp).
  LockedRecord locked = locked_record_in_status(global, id, {"running", "created"}, true);
  const state::Record& rec = locked.record;
  auto cgroup = cgroup_of(rec);
  if (cgroup->kind() == "disabled")
    throw Error("container " + quote(id) + " has no cgroup: pausing needs a freezer", ENOTSUP);
  cgroup->freeze();
}

void resume(const GlobalOptions& global, const std::string& id) {
  state::Record rec = record_in_status(global, id, {"paused"});
  cgroup_of(rec)->thaw();
}

std::string ps(const GlobalOptions& global, const std::string& id, const std::string& format) {
  state::Record rec = record_in_status(global, id, {"running", "created", "paused"});
  std::vector<pid_t> pids = container_pids(rec);
  if (format == "json") return nlohmann::json(pids).dump() + "\n";
  std::ostringstream out;
  out << "PID\n";
  for (pid_t pid : pids) out << pid << "\n";
  return out.str();
}

void update(const GlobalOptions& global, const std::string& id, const std::string& resources_json) {
  nlohmann::json j;
  try {
    j = spec::parse_document(resources_json);
  } catch (Error& e) {
    e.prepend("resources");
    throw;
  }
  if (!j.is_object()) throw Error("resources: not a JSON object", EINVAL);
  // Only what is given is written: an update of the pids limit leaves the
  // memory limit as it is.
  cgroups::Resources resources = cgroups::parse_resources(j);
  state::Record rec = record_in_status(global, id, {"running", "created", "paused"});
  auto cgroup = cgroup_of(rec);
  if (cgroup->kind() == "disabled")
    throw Error("container " + quote(id) + " has no cgroup: its resources cannot be updated",
                ENOTSUP);
  if (!resources.devices.empty()) {
    // New device rules replace the old ones as a whole on v2 (one BPF program): the
    // devices every container gets stay allowed, as at create.
    std::optional<spec::Spec> spec = config_at_create(global, id);
    add_default_devices(resources, spec ? &*spec : nullptr);
  }
  cgroup->apply(resources);
}

void update_intel_rdt(const GlobalOptions& global, const std::string& id,
                      const std::optional<std::string>& l3, const std::optional<std::string>& mb) {
  if (l3) linux::check_schema_flag(*l3, "L3", "--l3-cache-schema");
  if (mb) linux::check_schema_flag(*mb, "MB:", "--mem-bw-schema");
  state::Record rec = record_in_status(global, id, {"running", "created", "paused"});
  const std::string flags = l3 && mb ? "--l3-cache-schema, --mem-bw-schema"
                                     : (l3 ? "--l3-cache-schema" : "--mem-bw-schema");
  std::optional<std::string> root = linux::find_resctrl();
  if (!root)
    throw Error(flags + ": the resctrl file system is not mounted (not at " +
                    quote(linux::kResctrlMount) +
                    " nor anywhere in /proc/self/mountinfo): "
                    "Intel RDT is not available",
                ENOTSUP);
  std::optional<spec::Spec> spec = config_at_create(global, id);
  // Its group is the one create made or joined; without one there is none to update.
  if (!spec || !spec->linux || spec->linux->intel_rdt.is_null())
    throw Error(flags + ": the container was created without linux.intelRdt", EINVAL);
  linux::IntelRdt rdt = linux::parse_intel_rdt(spec->linux->intel_rdt);
  rdt.l3_cache_schema = l3;
  rdt.mem_bw_schema = mb;
  rdt.schemata.clear();
  linux::update_resctrl_schemata(linux::plan_resctrl(rdt, id, *root), l3, mb);
}

int64_t parse_size(const std::string& text, const std::string& what) {
  if (text == "-1") return -1;
  size_t used = 0;
  long double value = 0;
  try {
    value = std::stold(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || value < 0) throw Error(what + ": invalid size " + quote(text), EINVAL);
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();  // "MiB"
  long double factor = 1;
  if (unit == "k")
    factor = 1024.0L;
  else if (unit == "m")
    factor = 1024.0L * 1024;
  else if (unit == "g")
    factor = 1024.0L * 1024 * 1024;
  else if (unit == "t")
    factor = 1024.0L * 1024 * 1024 * 1024;
  else if (!unit.empty())
    throw Error(what + ": invalid size " + quote(text), EINVAL);
  long double bytes = value * factor;
  if (bytes > 9.2e18L) throw Error(what + ": size " + quote(text) + " is too large", ERANGE);
  return static_cast<int64_t>(bytes);
}

}  // namespace urun::container
