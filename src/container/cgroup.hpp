#pragma once
// The container's cgroup as the lifecycle sees it: which manager (systemd ->
// cgroupfs -> disabled, explained at --debug), what happens when none is
// usable (a warning, or an error when the config named a cgroupsPath), and the
// manager of an existing container rebuilt from its record.
#include <memory>
#include <string>

#include "cgroups/manager.hpp"
#include "cgroups/resources.hpp"
#include "container/commands.hpp"
#include "linux/mounts/cgroup_mount.hpp"
#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {

// Parses linux.resources (errors name the JSON path) and adds the allow rules
// every container needs after the config's usual "deny all": the default
// devices and the config's linux.devices.
cgroups::Resources container_resources(const spec::Spec& spec);
// The allow rules of runc and crun 1.20+: mknod of any char or block device, the standard
// /dev nodes, the console, ptys and /dev/net/tun.
std::vector<cgroups::DeviceRule> default_device_rules();
// Appends those allow rules (the config's linux.devices only when spec is given),
// the defaults last: whatever the config denies, they stay allowed, as in runc and crun.
void add_default_devices(cgroups::Resources& resources, const spec::Spec* spec);

// Chooses the manager (warning or failing when none is usable, see above);
// nothing is created on disk yet, so the choice can be recorded first.
// state_root: the --root in use; containers of different roots may share an
// id, so the default cgroup name is made unique per root.
std::unique_ptr<cgroups::Manager> choose_cgroup(const GlobalOptions& global, const spec::Spec& spec,
                                                const cgroups::Resources& resources,
                                                const std::string& id,
                                                const std::string& state_root, bool rootless);

// Creates the chosen cgroup, claims it (refusing one with processes or frozen,
// see Manager::claim) and applies the resources (nothing for "disabled"). On
// failure nothing it made is left, and nothing it did not make is touched.
void setup_cgroup(cgroups::Manager& cgroup, const cgroups::Resources& resources);
// The clean-up of a create that failed after setup_cgroup: Manager::undo_create,
// whose failure is a warning (the create's own error is the one to report).
void undo_cgroup(cgroups::Manager& cgroup) noexcept;

// What the container's `cgroup` mount shows: its own cgroup per hierarchy, or
// without one (disabled manager) the runtime's own cgroups, read from
// /proc/self/cgroup. Nothing is read when the config has no cgroup mount.
// Empty while the manager's paths wait for the init to join (see below).
linux::CgroupMountPlan cgroup_mount_plan(const cgroups::Manager& cgroup, const spec::Spec& spec);
// Whether the config has a cgroup mount whose plan can only be computed once the init
// has joined its cgroup (the systemd manager: its scope is made with the init). The
// launcher then joins before letting the init go on and sends it the plan.
bool cgroup_mount_plan_after_join(const cgroups::Manager& cgroup, const spec::Spec& spec);

// The manager recorded at create (Disabled when there is none).
std::unique_ptr<cgroups::Manager> cgroup_of(const state::Record& record);

}  // namespace urun::container
