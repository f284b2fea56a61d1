#include "runtime/launch_init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <utility>

#include "common/error.hpp"
#include "common/log.hpp"
#include "linux/device_nodes.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/namespaces.hpp"
#include "linux/sched_attrs.hpp"
#include "runtime/child_plumbing.hpp"
#include "runtime/clone_child.hpp"
#include "runtime/create_plan.hpp"
#include "runtime/id_maps.hpp"
#include "runtime/idmapped_mounts.hpp"
#include "runtime/init.hpp"
#include "userns/map_writer.hpp"
#include "userns/mapping.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace urun::runtime {
namespace {

// Makes the detached id-mapped tree of every id-mapped bind mount (runtime/idmapped_mounts.hpp)
// and sends each to the init.
void send_idmapped_mounts(const spec::Spec& spec, const std::string& bundle, pid_t init,
                          const IdMaps& maps, const SyncChannel& channel) {
  IdmapContext ctx{bundle, -1, maps.uids, maps.gids};
  std::optional<UniqueFd> container_userns;  // looked up once, for the first id-mapped mount
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const spec::Mount& m = spec.mounts[i];
    if (!linux::is_idmapped(m, linux::parse_mount_options(m.options))) continue;
    if (!container_userns) {
      container_userns = own_user_namespace_of(init);
      ctx.container_userns = *container_userns ? container_userns->get() : -1;
    }
    UniqueFd tree = make_mount_idmapped_tree(m, ctx);
    channel.send_fd(Msg::kMountFd, tree.get(), std::to_string(i));
  }
}

// Clones the sources of the bind mounts the init could not open itself (their indices are the
// payload of its kNeedIdMaps) and sends each as a detached tree. Only a runtime privileged over
// its mount namespace can clone a mount; one that cannot, or fails, leaves the init to look the
// source up again and report its own error, which names the mount.
void send_refused_sources(const spec::Spec& spec, const std::string& bundle,
                          const std::string& refused, const SyncChannel& channel) {
  for (size_t i : linux::decode_indices(refused, spec.mounts.size())) {
    const spec::Mount& m = spec.mounts[i];
    try {
      UniqueFd tree = linux::clone_bind_source(
          m, bundle, "mount " + quote(m.source) + " on " + quote(m.destination));
      channel.send_fd(Msg::kMountFd, tree.get(), std::to_string(i));
    } catch (const Error& e) {
      log::debug(e.message());
    }
  }
}

// Enters `dir` until destroyed, for the init to inherit as its working directory at clone (the
// kernel moves it into the init's new mount namespace); false from entered() when the current
// one cannot be kept to come back to (an unsearchable working directory) or `dir` cannot be
// entered: the init then enters it itself.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::string& dir) {
    saved_.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (saved_ && ::chdir(dir.c_str()) < 0) saved_.reset();
  }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;
  ~WorkingDirectory() { restore(); }
  bool entered() const { return saved_.valid(); }
  void restore() {
    if (!saved_) return;
    // Whoever could open it may enter it again.
    if (::fchdir(saved_.get()) < 0)
      log::warning(std::string("return to the working directory: ") + std::strerror(errno));
    saved_.reset();
  }

 private:
  UniqueFd saved_;
};

int clone_entry(void* arg) { container_init(*static_cast<InitState*>(arg)); }

// What launch_init holds for one clone: both ends of the channel, the init's state, the
// device nodes root makes for it.
struct Clone {
  SyncChannel parent_end, child_end;
  UniqueFd console;  // the init's copy of the console socket
  InitState state;
  std::vector<UniqueFd> device_nodes;
};

void prepare_clone(const CreatePlan& plan, Clone& c) {
  const spec::Spec& spec = *plan.spec;
  const linux::NamespacePlan& ns = plan.namespaces;
  // Root of a new user namespace may not mknod: root on the host makes the nodes for it, owned
  // by the host ids the maps give the config's owners.
  if (!plan.caller.rootless && ns.new_user && ns.own_mount && spec.linux &&
      !spec.linux->devices.empty())
    c.device_nodes = linux::make_device_nodes_from_parent(spec, to_spec_mappings(plan.id_maps.uids),
                                                          to_spec_mappings(plan.id_maps.gids));
  SyncChannel::make_pair(c.parent_end, c.child_end);
  const int min_fd = 3 + plan.options.preserve_fds;
  move_above(c.parent_end.owned_fd(), min_fd);
  move_above(c.child_end.owned_fd(), min_fd);
  c.console = copy_console_socket(spec.process->terminal, plan.handles.console_socket, min_fd);
  c.state.plan = &plan;
  c.state.channel = &c.child_end;
  c.state.console_socket = c.console.get();
  linux::RootfsOptions& rootfs = c.state.rootfs;
  rootfs.rootfs = plan.options.rootfs;
  rootfs.rootless = plan.caller.rootless;
  rootfs.new_user_ns = ns.new_user;
  rootfs.user_ns = plan.user_ns();
  rootfs.new_net_ns = ns.new_net;
  rootfs.new_cgroup_ns = ns.new_cgroup;
  rootfs.cgroup = plan.handles.cgroup_mount;
}

// Clones the init. An init in a user namespace has no privileges on the host: a privileged
// runtime enters the bundle for it (a joined mount namespace would reset the working directory).
ClonedChild clone_init(const CreatePlan& plan, InitState& state) {
  std::optional<WorkingDirectory> in_bundle;
  if (!plan.caller.unprivileged && plan.user_ns() && !plan.joins_mount) {
    in_bundle.emplace(plan.bundle);
    state.chdir_to_bundle = !in_bundle->entered();
  }
  try {
    return clone_child(clone_entry, &state, plan.namespaces.clone_flags, plan.handles.cgroup_fd);
  } catch (Error& e) {
    // A user namespace refused to an unprivileged caller: disabled by a sysctl or an LSM
    // (EPERM), or the per-user limit user.max_user_namespaces reached (ENOSPC, EUSERS).
    const int err = e.code();
    if (plan.caller.unprivileged && plan.namespaces.new_user &&
        (err == EPERM || err == ENOSPC || err == EUSERS))
      e.set_hint(Hint::rootless_setup);
    throw;
  }
}

// Starts writing the init's id maps as soon as it is cloned: newuidmap and newgidmap (about a
// millisecond each here) then run while the init gets ready to ask for them.
userns::PendingIdMaps start_id_maps(const IdMaps& maps, pid_t pid) {
  userns::WriteOptions options;
  options.allow_single_fallback = maps.defaulted;
  return userns::PendingIdMaps(pid, maps.uids, maps.gids, std::move(options));
}

// Finishes the init's id maps: "deny" when setgroups was denied, for kIdMapsDone.
std::string finish_id_maps(userns::PendingIdMaps& maps) {
  userns::MapResult result = maps.finish();
  if (!result.warning.empty())
    log::warning(result.warning + std::string(hint_text(Hint::rootless_setup)));
  if (log::enabled(log::Level::debug)) log::debug("id maps: " + result.describe());
  return result.setgroups_denied ? "deny" : "";
}

// The init's first request (kNeedIdMaps) up to kIdMapsDone: its cgroup, scheduler, id maps,
// prepared mounts and device nodes, network devices.
void answer_id_maps_request(const CreatePlan& plan, ParentSteps& steps, Clone& c, pid_t pid,
                            bool cloned_into_cgroup, std::optional<userns::PendingIdMaps>& maps) {
  const spec::Spec& spec = *plan.spec;
  const linux::NamespacePlan& ns = plan.namespaces;
  const std::string refused_sources = c.parent_end.expect(Msg::kNeedIdMaps);
  // Moving a task into a cgroup by its pid waits for an RCU grace period in the kernel
  // (milliseconds): the init is cloned into its cgroup2 directory and moves itself into its v1
  // hierarchies where it can (Manager::open_self_join_files), so this is often a no-op.
  // The init must be placed before it unshares a cgroup namespace or forks the real init;
  // otherwise the move can overlap with its mount work: it is done before the init's next
  // request is read, so before it reports ready and execs. A cgroup mount plan that waits for
  // the join must reach the init before its mounts. The scheduler and I/O priority too: set
  // once the init is in its cgroup (whose realtime budget a realtime policy needs) and before
  // it may fork or switch users (linux/sched_attrs.hpp).
  const spec::Process& proc = *spec.process;
  const bool join_before_release = (ns.unshare_flags & CLONE_NEWCGROUP) != 0 || ns.needs_fork ||
                                   plan.handles.cgroup_mount_after_join || proc.scheduler ||
                                   proc.io_priority;
  if (join_before_release) steps.join_cgroup(pid, cloned_into_cgroup);
  if (proc.scheduler) linux::set_scheduler(pid, *proc.scheduler);
  if (proc.io_priority) linux::set_io_priority(pid, *proc.io_priority);
  if (plan.handles.cgroup_mount_after_join)
    c.parent_end.send(Msg::kCgroupMount,
                      linux::encode_cgroup_plan(steps.cgroup_mount_after_join()));
  const std::string maps_reply = maps ? finish_id_maps(*maps) : "";
  if (ns.own_mount) {
    send_idmapped_mounts(spec, plan.bundle, pid, plan.id_maps, c.parent_end);
    if (!plan.caller.unprivileged)
      send_refused_sources(spec, plan.bundle, refused_sources, c.parent_end);
    for (size_t i = 0; i < c.device_nodes.size(); ++i)
      if (c.device_nodes[i])
        c.parent_end.send_fd(Msg::kDeviceFd, c.device_nodes[i].get(), std::to_string(i));
  }
  c.device_nodes.clear();
  // The init has made or joined its network namespace by now, and waits for this reply.
  if (!plan.net_devices.empty()) linux::move_net_devices_from_parent(plan.net_devices, pid);
  c.parent_end.send(Msg::kIdMapsDone, maps_reply);
  if (!join_before_release) steps.join_cgroup(pid, cloned_into_cgroup);
}

}  // namespace

LaunchedInit launch_init(const CreatePlan& plan, ParentSteps& steps) {
  Clone c;
  prepare_clone(plan, c);
  const ClonedChild child = clone_init(plan, c.state);
  LaunchedInit out;
  out.pid = child.pid;
  out.guard.reset(child.pid);
  c.child_end.close();
  c.console.reset();  // the init has its own copy
  if (child.in_cgroup) log::debug("init cloned into its cgroup (CLONE_INTO_CGROUP)");

  std::optional<userns::PendingIdMaps> maps;
  if (plan.namespaces.new_user) maps.emplace(start_id_maps(plan.id_maps, child.pid));

  // Requests from the init, in the order it makes them (runtime/sync_channel.hpp).
  answer_id_maps_request(plan, steps, c, child.pid, child.in_cgroup, maps);
  if (plan.namespaces.needs_fork) {
    // The real init is the child of the one cloned, which exits.
    const pid_t init = receive_forked_pid_from_child(c.parent_end, child.pid);
    out.guard.release();
    out.guard.reset(init);
    out.pid = init;
  }
  steps.init_running(out.pid);
  c.parent_end.expect(Msg::kRunHooks);
  // The init (or the real init it forked) unshared its cgroup namespace, if it has one,
  // before its mounts, so before asking for the hooks.
  steps.after_cgroup_namespace(out.pid);
  const std::string state_json = steps.run_runtime_hooks(out.pid);
  c.parent_end.send(Msg::kHooksDone, state_json);
  // The hooks' state says "created" (runtime-spec 1.3); the agent gets the listener while the
  // container is still being created, and is told so, as by runc and crun.
  const bool terminal = plan.spec->process->terminal && plan.handles.console_socket < 0;
  out.terminal =
      receive_handoffs_from_child(c.parent_end, terminal, plan.seccomp ? &*plan.seccomp : nullptr,
                                  out.pid, state_json, "creating");
  c.parent_end.expect(Msg::kReady);
  out.channel = std::move(c.parent_end);
  return out;
}

}  // namespace urun::runtime
