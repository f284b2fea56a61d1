#include "runtime/launcher.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "common/error.hpp"
#include "common/log.hpp"
#include "linux/capabilities.hpp"
#include "linux/device_nodes.hpp"
#include "linux/lsm.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/mounts/shared_mount_ns.hpp"
#include "linux/namespaces.hpp"
#include "linux/process_attrs.hpp"
#include "linux/sched_attrs.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "linux/seccomp/seccomp_notify.hpp"
#include "runtime/clone_child.hpp"
#include "runtime/id_maps.hpp"
#include "runtime/idmapped_mounts.hpp"
#include "runtime/init.hpp"
#include "spec/host_isolation.hpp"
#include "spec/time_offsets.hpp"
#include "userns/holder.hpp"
#include "userns/map_writer.hpp"
#include "userns/mapping.hpp"

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

// Keeps our own fds clear of the range the container's preserved fds use.
void move_above(UniqueFd& fd, int min_fd) {
  if (fd.get() >= min_fd) return;
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, min_fd);
  if (moved < 0) throw_errno("move fd above preserved fds");
  fd.reset(moved);
}

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

int clone_entry(void* arg) { container_init(*static_cast<InitPlan*>(arg)); }

std::vector<spec::IdMapping> to_spec_mappings(const std::vector<userns::Mapping>& maps) {
  std::vector<spec::IdMapping> out;
  out.reserve(maps.size());
  for (const auto& m : maps) out.push_back({m.container_id, m.host_id, m.size});
  return out;
}

}  // namespace

LaunchedInit launch(const LaunchRequest& req) {
  const spec::Spec& spec = *req.spec;
  // Root in a user namespace (rootless Podman runs the runtime in its own) is rootless too: it
  // cannot make device nodes or touch the host's cgroups. Only an unprivileged caller needs an
  // automatic user namespace, though: root in one can already do the rest.
  const bool unprivileged = ::geteuid() != 0;
  const bool rootless = unprivileged || req.rootless;
  check_capability_names(*spec.process);

  const std::vector<spec::Namespace> no_namespaces;
  const auto& namespaces = spec.linux ? spec.linux->namespaces : no_namespaces;
  bool config_has_user = false;
  for (const auto& ns : namespaces) config_has_user |= ns.type == "user";
  linux::NamespacePlan ns = linux::plan_namespaces(namespaces, unprivileged && !config_has_user);
  if (!ns.own_mount) {
    // validate() saw a "mount" entry only when it named the runtime's own namespace.
    if (ns.joined_runtime_mount) spec::check_without_mount_namespace(spec);
    std::string unapplied = linux::unapplied_mount_settings(spec);
    if (!unapplied.empty())
      log::warning(
          "no mount namespace of the container's own: it shares the host's mounts and "
          "is chrooted into its rootfs, without its " +
          unapplied + " (they would change the host's mount table)");
  }

  // Compiled here, before clone: the init only loads it.
  std::optional<linux::SeccompProgram> seccomp = linux::seccomp_for(spec, req.seccomp_cache_dir);

  IdMaps maps;
  if (ns.new_user) maps = plan_id_maps(spec, unprivileged && !config_has_user);
  bool joins_user = false, joins_mount = false;
  for (const auto& joined : ns.join) {
    joins_user |= joined.first == CLONE_NEWUSER;
    joins_mount |= joined.first == CLONE_NEWNS;
  }
  const bool user_ns = ns.new_user || joins_user;
  // Root of a new user namespace may not mknod: root on the host makes the nodes for it, owned
  // by the host ids the maps give the config's owners.
  std::vector<UniqueFd> device_nodes;
  if (!rootless && ns.new_user && ns.own_mount && spec.linux && !spec.linux->devices.empty())
    device_nodes =
        linux::make_device_nodes(spec, to_spec_mappings(maps.uids), to_spec_mappings(maps.gids));

  SyncChannel parent_end, child_end;
  SyncChannel::make_pair(parent_end, child_end);
  const int min_fd = 3 + req.preserve_fds;
  move_above(parent_end.owned_fd(), min_fd);
  move_above(child_end.owned_fd(), min_fd);
  for (auto& joined : ns.join) move_above(joined.second, min_fd);
  const bool terminal = spec.process->terminal;
  UniqueFd console;
  if (terminal && req.console_socket >= 0) {
    console.reset(::fcntl(req.console_socket, F_DUPFD_CLOEXEC, min_fd));
    if (!console) throw_errno("duplicate the console socket");
  }

  InitPlan plan;
  plan.spec = &spec;
  plan.id = req.id;
  plan.bundle = req.bundle;
  plan.namespaces = &ns;
  plan.rootfs.rootfs = req.rootfs;
  plan.rootfs.rootless = rootless;
  plan.rootfs.new_user_ns = ns.new_user;
  plan.rootfs.user_ns = user_ns;
  plan.rootfs.new_net_ns = ns.new_net;
  plan.rootfs.new_cgroup_ns = ns.new_cgroup;
  plan.rootfs.cgroup = req.cgroup_mount;
  plan.channel = &child_end;
  plan.start_fifo_fd = req.start_fifo_fd;
  plan.foreground = req.foreground;
  plan.no_pivot = req.no_pivot;
  plan.no_new_keyring = req.no_new_keyring;
  plan.keep_original_groups = spec.annotation("run.oci.keep_original_groups") != nullptr;
  plan.preserve_fds = req.preserve_fds;
  plan.console_socket = console.get();
  plan.listen_fds = req.listen_fds;
  plan.placeholder_fds = req.placeholder_fds;
  if (ns.unshare_flags & CLONE_NEWTIME)
    plan.timens_offsets = spec::timens_offsets_text(spec::effective_time_offsets(spec));
  plan.intermediate_userns = needs_intermediate_userns(spec, ns, maps);
  plan.seccomp = seccomp ? &*seccomp : nullptr;
  // The host's /sys is read only when the config asks for a label.
  linux::LsmLabels lsm;
  if (spec.process->apparmor_profile || spec.process->selinux_label)
    lsm = linux::lsm_labels(*spec.process, linux::detect_lsm_host());
  plan.lsm = lsm.empty() ? nullptr : &lsm;

  // An init in a user namespace has no privileges on the host: a privileged runtime enters the
  // bundle for it (a joined mount namespace would reset the working directory).
  std::optional<WorkingDirectory> in_bundle;
  if (!unprivileged && user_ns && !joins_mount) {
    in_bundle.emplace(req.bundle);
    plan.chdir_to_bundle = !in_bundle->entered();
  }
  ClonedChild child;
  try {
    child = clone_child(clone_entry, &plan, ns.clone_flags, req.cgroup_fd);
  } catch (Error& e) {
    // A user namespace refused to an unprivileged caller: disabled by a sysctl or an LSM
    // (EPERM), or the per-user limit user.max_user_namespaces reached (ENOSPC, EUSERS).
    const int err = e.code();
    if (unprivileged && ns.new_user && (err == EPERM || err == ENOSPC || err == EUSERS))
      e.set_hint(Hint::rootless_setup);
    throw;
  }
  in_bundle.reset();
  const pid_t pid = child.pid;
  std::function<void(pid_t)> join_cgroup = req.join_cgroup;
  if (child.in_cgroup) {
    join_cgroup = nullptr;  // born in its cgroup: nothing left to join
    log::debug("init cloned into its cgroup (CLONE_INTO_CGROUP)");
  }

  LaunchedInit out;
  out.pid = pid;
  out.guard.reset(pid);
  out.rootless = rootless;
  child_end.close();
  console.reset();  // the init has its own copy

  // Requests from the init, in the order it makes them.
  const std::string refused_sources = parent_end.expect(Msg::kNeedIdMaps);
  // Moving a task into a cgroup waits for an RCU grace period in the kernel
  // (milliseconds). The init must be placed before it unshares a cgroup
  // namespace or forks the real init; otherwise the move can overlap with its
  // mount work: it is done before the init's next request is read, so before
  // it reports ready and execs.
  // A cgroup mount plan that waits for the join must reach the init before its mounts.
  // The scheduler and I/O priority too: set once the init is in its cgroup (whose realtime
  // budget a realtime policy needs) and before it may fork or switch users (linux/sched_attrs.hpp).
  const spec::Process& proc = *spec.process;
  const bool sched_attrs = proc.scheduler || proc.io_priority;
  const bool join_before_release = (ns.unshare_flags & CLONE_NEWCGROUP) != 0 || ns.needs_fork ||
                                   req.cgroup_mount_after_join || sched_attrs;
  if (join_cgroup && join_before_release) join_cgroup(pid);
  if (proc.scheduler) linux::set_scheduler(pid, *proc.scheduler);
  if (proc.io_priority) linux::set_io_priority(pid, *proc.io_priority);
  if (req.cgroup_mount_after_join)
    parent_end.send(Msg::kCgroupMount, linux::encode_cgroup_plan(req.cgroup_mount_after_join()));
  std::string maps_reply;
  if (ns.new_user) {
    userns::WriteOptions options;
    options.allow_single_fallback = maps.defaulted;
    userns::MapResult result = userns::write_id_maps(pid, maps.uids, maps.gids, options);
    if (!result.warning.empty())
      log::warning(result.warning + std::string(hint_text(Hint::rootless_setup)));
    if (log::enabled(log::Level::debug)) log::debug("id maps: " + result.describe());
    if (result.setgroups_denied) maps_reply = "deny";
  }
  if (ns.own_mount) {
    send_idmapped_mounts(spec, req.bundle, pid, maps, parent_end);
    if (!unprivileged) send_refused_sources(spec, req.bundle, refused_sources, parent_end);
    for (size_t i = 0; i < device_nodes.size(); ++i)
      if (device_nodes[i])
        parent_end.send_fd(Msg::kDeviceFd, device_nodes[i].get(), std::to_string(i));
  }
  device_nodes.clear();
  // The init has made or joined its network namespace by now, and waits for this reply.
  if (req.net_devices) linux::move_net_devices(*req.net_devices, pid);
  parent_end.send(Msg::kIdMapsDone, maps_reply);
  if (join_cgroup && !join_before_release) join_cgroup(pid);

  if (ns.needs_fork) {
    pid_t init = static_cast<pid_t>(std::stol(parent_end.expect(Msg::kInitPid)));
    // Reap the intermediate process; the real init is its child.
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    out.guard.release();
    out.guard.reset(init);
    out.pid = init;
  }

  parent_end.expect(Msg::kRunHooks);
  // The init (or the real init it forked) unshared its cgroup namespace, if it has one,
  // before its mounts, so before asking for the hooks.
  if (req.after_cgroup_namespace) req.after_cgroup_namespace(out.pid);
  std::string state_json = req.runtime_hooks ? req.runtime_hooks(out.pid) : std::string("{}");
  parent_end.send(Msg::kHooksDone, state_json);
  if (terminal && req.console_socket < 0)
    out.terminal = std::move(parent_end.expect_frame(Msg::kTerminal).fd);
  if (seccomp && seccomp->notify) {
    Frame f = parent_end.expect_frame(Msg::kSeccompListener);
    if (!f.fd) throw Error("seccomp listener missing on the sync socket", EPROTO);
    // The hooks' state says "created" (runtime-spec 1.3); the agent gets the listener
    // while the container is still being created, and is told so, as by runc and crun.
    linux::send_seccomp_listener(
        seccomp->listener_path, f.fd.get(),
        linux::seccomp_process_state(out.pid, seccomp->listener_metadata, state_json, "creating"));
  }
  parent_end.expect(Msg::kReady);
  out.channel = std::move(parent_end);
  return out;
}

}  // namespace urun::runtime
