#include "runtime/create_plan.hpp"

#include <sched.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/log.hpp"
#include "linux/capabilities.hpp"
#include "linux/mounts/shared_mount_ns.hpp"
#include "linux/process_attrs.hpp"
#include "runtime/child_plumbing.hpp"
#include "spec/host_isolation.hpp"
#include "spec/time_offsets.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace urun::runtime {
namespace {

// Checks names before clone so a typo fails fast with a clear message.
void check_capability_names(const spec::Process& proc) {
  if (!proc.capabilities) return;
  const auto& c = *proc.capabilities;
  for (const auto* set : {&c.bounding, &c.effective, &c.inheritable, &c.permitted, &c.ambient})
    for (const auto& name : *set)
      if (linux::capability_from_name(name) < 0)
        throw Error("process.capabilities: unknown capability " + quote(name), EINVAL);
}

// crun's "intermediate user namespace": a new user namespace made of a single
// mapping to root, with a process uid or gid other than 0.
bool needs_intermediate_userns(const spec::Spec& spec, const linux::NamespacePlan& ns,
                               const IdMaps& maps) {
  if (!ns.new_user || maps.defaulted) return false;
  auto single_root = [](const std::vector<userns::Mapping>& m) {
    return m.size() == 1 && m[0].container_id == 0 && m[0].size == 1;
  };
  const spec::User& user = spec.process->user;
  return single_root(maps.uids) && single_root(maps.gids) && (user.uid != 0 || user.gid != 0);
}

// The namespaces, with the user namespace an unprivileged caller gets when the config has
// none; warns about what a container without a mount namespace of its own goes without.
void plan_namespaces_of(const spec::Spec& spec, CreatePlan& plan, bool& automatic_userns) {
  const std::vector<spec::Namespace> no_namespaces;
  const auto& namespaces = spec.linux ? spec.linux->namespaces : no_namespaces;
  bool config_has_user = false;
  for (const auto& ns : namespaces) config_has_user |= ns.type == "user";
  automatic_userns = plan.caller.unprivileged && !config_has_user;
  plan.namespaces = linux::plan_namespaces(namespaces, automatic_userns);
  for (const auto& joined : plan.namespaces.join) {
    plan.joins_user |= joined.first == CLONE_NEWUSER;
    plan.joins_mount |= joined.first == CLONE_NEWNS;
  }
  if (plan.namespaces.own_mount) return;
  // validate() saw a "mount" entry only when it named the runtime's own namespace.
  if (plan.namespaces.joined_runtime_mount) spec::check_without_mount_namespace(spec);
  std::string unapplied = linux::unapplied_mount_settings(spec);
  if (!unapplied.empty())
    log::warning(
        "no mount namespace of the container's own: it shares the host's mounts and "
        "is chrooted into its rootfs, without its " +
        unapplied + " (they would change the host's mount table)");
}

}  // namespace

CreatePlan plan_create(const spec::Spec& spec, const std::string& bundle, CreateOptions options,
                       Caller caller) {
  CreatePlan plan;
  plan.spec = &spec;
  plan.bundle = bundle;
  plan.options = std::move(options);
  plan.caller = caller;
  check_capability_names(*spec.process);
  bool automatic_userns = false;
  plan_namespaces_of(spec, plan, automatic_userns);
  // Clear of the preserved range from the start: the init keeps them until it joins.
  for (auto& joined : plan.namespaces.join)
    move_above(joined.second, 3 + plan.options.preserve_fds);
  // Compiled here, before anything exists: the init only loads it.
  plan.seccomp = linux::seccomp_for(spec, plan.options.seccomp_cache_dir);
  if (plan.namespaces.new_user) plan.id_maps = plan_id_maps(spec, automatic_userns);
  plan.intermediate_userns = needs_intermediate_userns(spec, plan.namespaces, plan.id_maps);
  if (plan.namespaces.unshare_flags & CLONE_NEWTIME)
    plan.timens_offsets = spec::timens_offsets_text(spec::effective_time_offsets(spec));
  // The host's /sys is read only when the config asks for a label.
  if (spec.process->apparmor_profile || spec.process->selinux_label)
    plan.lsm = linux::lsm_labels(*spec.process, linux::detect_lsm_host());
  plan.keep_original_groups = spec.annotation("run.oci.keep_original_groups") != nullptr;
  plan.net_devices = linux::parse_net_devices(spec);
  linux::check_net_devices_exist(plan.net_devices);
  return plan;
}

}  // namespace urun::runtime
