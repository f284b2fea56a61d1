#pragma once
// Which cgroup manager a container gets (make_manager: systemd -> cgroupfs -> disabled, as the
// request allows) and the manager a later command rebuilds from the state record. The
// interface itself is cgroups/manager.hpp.
#include <sys/types.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/manager.hpp"

namespace urun::cgroups {

struct ManagerRequest {
  // --cgroup-manager: systemd | cgroupfs | disabled; "" or "auto": the best available
  // (systemd -> cgroupfs -> disabled).
  std::string kind = "cgroupfs";
  std::string root = kDefaultRoot;
  std::optional<std::string> cgroups_path;  // linux.cgroupsPath
  std::string container_id;
  bool rootless = false;
  uid_t uid = ::geteuid();  // whose write access decides for rootless
  // run.oci.delegate-cgroup: a sub-cgroup the process runs in, left to the payload
  // (cgroup v2 only). Limits stay on the container's cgroup.
  std::string delegate_cgroup;
  // The container makes a cgroup namespace of its own: crun's manual says it is made
  // before the move to the delegated cgroup, so the payload sees (and manages) that
  // cgroup below its namespace's root (see Manager::enter_delegate).
  bool delegate_after_cgroupns = false;
  // run.oci.systemd.subgroup (systemd manager): absent -> the manual's default.
  std::optional<std::string> systemd_subgroup;
  // Test seams: the layout (detected from root when absent), the caller's cgroups, and
  // the systemd bus: a D-Bus address or socket path; "" -> the system bus for root, the
  // user's bus rootless (systemd_names.hpp, bus_address).
  std::optional<Layout> layout;
  std::string proc_self_cgroup = "/proc/self/cgroup";
  std::string systemd_bus;
};

struct ManagerChoice {
  std::unique_ptr<Manager> manager;
  // Why the preferred managers were not used, in order, for --debug:
  // "systemd: not available: no systemd bus at /run/systemd/private".
  std::vector<std::string> reasons;
};

// systemd -> cgroupfs -> disabled, as far as the request allows: asking for systemd by
// name gets an Error when no systemd can be reached; a root container asking for
// cgroupfs gets an Error when it cannot have one; a rootless one gets Disabled with the
// reason. Nothing is created on disk: call create() on the result.
ManagerChoice make_manager(const ManagerRequest& request);
ManagerChoice make_manager(const std::string& kind, const std::string& root,
                           const std::optional<std::string>& cgroups_path,
                           const std::string& container_id, bool rootless);

// Rebuilds a manager from Manager::to_state() output. Throws on malformed input.
std::unique_ptr<Manager> manager_from_state(const nlohmann::json& state);

}  // namespace urun::cgroups
