#include "container/status.hpp"

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "container/cgroup.hpp"
#include "version.hpp"

namespace urun::container {

std::string current_status(const state::Record& record) {
  // A create whose runtime died (killed mid-create) never finishes: whatever
  // it left is stopped, and `delete` cleans it up.
  if (record.status == "creating" && record.creator_pid > 0 &&
      !state::process_alive(record.creator_pid, record.creator_start_time))
    return "stopped";
  if (record.pid <= 0) return "creating";
  if (!state::process_alive(record.pid, record.pid_start_time)) return "stopped";
  if (record.status == "creating") return record.status;
  // Only a container with a cgroup can be paused; asking its freezer costs a
  // file read, so containers without one skip it.
  if (record.cgroup.is_object()) {
    try {
      if (cgroup_of(record)->is_frozen()) return "paused";
    } catch (const Error&) {
      // The cgroup is gone or unreadable: report what the record says.
    }
  }
  return record.status == "created" ? "created" : "running";
}

std::string oci_state_json(const state::Record& record, const std::string& status, bool pretty) {
  nlohmann::ordered_json j;
  // The runtime-spec version this state complies with (runtime-spec's state.md), not the
  // config's: a config of 1.0.2 still gets a 1.3 state, with its 1.3 fields.
  j["ociVersion"] = kOciVersion;
  j["id"] = record.id;
  j["pid"] = status == "stopped" ? 0 : record.pid;
  j["status"] = status;
  j["bundle"] = record.bundle;
  j["rootfs"] = record.rootfs;
  j["created"] = record.created;
  j["owner"] = record.owner;
  if (!record.annotations.empty()) j["annotations"] = record.annotations;
  return pretty ? j.dump(2) : j.dump();
}

std::string state_root(const std::string& root_option) {
  return root_option.empty() ? state::default_root() : root_option;
}

}  // namespace urun::container
