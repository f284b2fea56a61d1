#include "container/status.hpp"

#include <nlohmann/json.hpp>

namespace urun::container {

std::string current_status(const state::Record& record) {
  if (record.pid <= 0) return "creating";
  if (!state::process_alive(record.pid, record.pid_start_time)) return "stopped";
  if (record.status == "created" || record.status == "creating") return record.status;
  return "running";
}

std::string oci_state_json(const state::Record& record, const std::string& status, bool pretty) {
  nlohmann::ordered_json j;
  j["ociVersion"] = record.oci_version;
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
