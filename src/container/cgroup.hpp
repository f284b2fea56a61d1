#pragma once
// The container's cgroup as the lifecycle sees it: which manager (systemd ->
// cgroupfs -> disabled, explained at --debug), what happens when none is
// usable (a warning, or an error when the config named a cgroupsPath), and the
// manager of an existing container rebuilt from its record.
#include <memory>
#include <string>

#include "cgroups/manager.hpp"
#include "cgroups/resources.hpp"
#include "container/operations.hpp"
#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {

// Parses linux.resources (errors name the JSON path) and adds the allow rules
// every container needs after the config's usual "deny all": the default
// devices and the config's linux.devices.
cgroups::Resources container_resources(const spec::Spec& spec);
// Appends those allow rules (the config's linux.devices only when spec is given).
void add_default_devices(cgroups::Resources& resources, const spec::Spec* spec);

// Chooses the manager and creates the cgroup with the resources applied.
// Nothing is created when the choice is "disabled".
// state_root: the --root in use; containers of different roots may share an
// id, so the default cgroup name is made unique per root.
std::unique_ptr<cgroups::Manager> create_cgroup(const GlobalOptions& global,
                                                const spec::Spec& spec,
                                                const cgroups::Resources& resources,
                                                const std::string& id,
                                                const std::string& state_root, bool rootless);

// The manager recorded at create (Disabled when there is none).
std::unique_ptr<cgroups::Manager> cgroup_of(const state::Record& record);

}  // namespace urun::container
