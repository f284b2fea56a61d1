#pragma once
// The container's status is derived, not stored: the recorded status says how
// far the lifecycle got ("created", "running"), the init's liveness (pid +
// start time, so a reused pid never counts) says whether it is over.
#include <string>

#include "state/store.hpp"

namespace urun::container {

// "creating" | "created" | "running" | "stopped" (| "paused" with a freezer).
// A "creating" record whose creator is gone is "stopped".
std::string current_status(const state::Record& record);

// The OCI state object: ociVersion, id, status, pid, bundle, annotations,
// plus crun's rootfs, created and owner. pid is 0 once stopped.
std::string oci_state_json(const state::Record& record, const std::string& status,
                           bool pretty = false);

// The state directory's root: --root, else the default for this user.
std::string state_root(const std::string& root_option);

}  // namespace urun::container
