#include "runtime/init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "linux/capabilities.hpp"
#include "linux/loopback.hpp"
#include "linux/lsm.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/shared_mount_ns.hpp"
#include "linux/process_attrs.hpp"
#include "linux/procfs.hpp"
#include "linux/sched_attrs.hpp"
#include "runtime/child_plumbing.hpp"
#include "runtime/console.hpp"
#include "runtime/hooks.hpp"
#include "runtime/process_setup.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace urun::runtime {
namespace {

void join_and_unshare(const linux::NamespacePlan& ns) {
  for (const auto& [flag, fd] : ns.join) {
    if (::setns(fd.get(), flag) < 0)
      throw_errno(std::string("join ") + linux::namespace_proc_name(flag) + " namespace");
    // Closed once joined. The plan's UniqueFd is this process's copy of the parent's memory,
    // never destroyed here (the init execs or _exits): closing the number is enough.
    ::close(fd.get());
  }
  if (ns.unshare_flags & ~(CLONE_NEWCGROUP)) {
    if (::unshare(ns.unshare_flags & ~CLONE_NEWCGROUP) < 0) throw_errno("unshare namespaces");
  }
}

// The /proc of the moment, checked to be the root of a procfs; `purpose` names the write that
// needs it when it is not.
linux::ProcFs open_procfs(std::string_view purpose) {
  try {
    return linux::ProcFs::open();
  } catch (Error& e) {
    throw e.prepend(purpose);
  }
}

// Maps the process's uid/gid to root of the container's user namespace in a
// nested one, so a config with a single mapped id can still run as uid 1000.
// A single self-mapping needs no privilege in the parent namespace, as long
// as setgroups is denied first. Runs after pivot_root: the map files must be
// opened after unshare, through the container's /proc.
void enter_intermediate_userns(const linux::ProcFs& proc, const spec::User& user) {
  // A non-dumpable process's /proc/self files belong to the host's root, so
  // the map files below could not be opened: dumpable only for these writes.
  if (::prctl(PR_SET_DUMPABLE, 1) < 0) throw_errno("set dumpable");
  if (::unshare(CLONE_NEWUSER) < 0) throw_errno("create intermediate user namespace");
  proc.write_file("self/setgroups", "deny", "deny setgroups in the intermediate user namespace");
  proc.write_file("self/uid_map", std::to_string(user.uid) + " 0 1\n",
                  "write the intermediate uid map");
  proc.write_file("self/gid_map", std::to_string(user.gid) + " 0 1\n",
                  "write the intermediate gid map");
}

// Collects the parent's detached trees (kMountFd, by mount index: id-mapped, or clones of
// sources the init was refused), device nodes (kDeviceFd, by linux.devices index) and a late
// cgroup mount plan (kCgroupMount) until kIdMapsDone, whose payload says whether setgroups was
// denied.
std::vector<UniqueFd> receive_prepared_mounts(const SyncChannel& channel, InitState& state,
                                              const spec::Spec& spec) {
  std::vector<UniqueFd> trees;
  const size_t devices = spec.linux ? spec.linux->devices.size() : 0;
  for (;;) {
    Frame f = channel.receive();
    if (f.type == Msg::kIdMapsDone) {
      state.setgroups_denied = f.payload == "deny";
      return trees;
    }
    if (f.type == Msg::kCgroupMount) {
      state.rootfs.cgroup = linux::decode_cgroup_plan(f.payload);
      continue;
    }
    if ((f.type != Msg::kMountFd && f.type != Msg::kDeviceFd) || !f.fd)
      throw Error("unexpected message while waiting for the id maps", EPROTO);
    const bool device = f.type == Msg::kDeviceFd;
    const size_t count = device ? devices : spec.mounts.size();
    std::vector<size_t> index = linux::decode_indices(f.payload, count);
    if (index.size() != 1) throw Error("a prepared mount without its index", EPROTO);
    std::vector<int>& fds = device ? state.rootfs.device_tree_fds : state.rootfs.source_tree_fds;
    fds.resize(count, -1);
    fds[index[0]] = f.fd.get();
    trees.push_back(std::move(f.fd));
  }
}

// The init is a copy of the parent and holds copies of all its fds until exec,
// among them the state directory's lock: a `start` would wait on that lock
// for ever. Close everything but stdio, the preserved fds and what the init
// itself still needs.
void close_inherited_fds(const CreatePlan& plan, const InitState& state) {
  for (int fd : plan.options.placeholder_fds) ::close(fd);
  std::vector<int> keep{state.channel->fd()};
  if (plan.handles.start_fifo_fd >= 0) keep.push_back(plan.handles.start_fifo_fd);
  if (state.console_socket >= 0) keep.push_back(state.console_socket);
  for (const auto& joined : plan.namespaces.join) keep.push_back(joined.second.get());
  close_fds_from(3 + plan.options.preserve_fds, std::move(keep));
}

void wait_for_start(const CreatePlan& plan, const SyncChannel& channel) {
  if (plan.options.foreground) {
    channel.expect(Msg::kStart);
    return;
  }
  char byte;
  for (;;) {
    ssize_t n = ::read(plan.handles.start_fifo_fd, &byte, 1);
    if (n == 1) return;
    if (n < 0 && errno == EINTR) continue;
    throw_errno("wait for start on exec fifo", n == 0 ? EPIPE : errno);
  }
}

const spec::Linux& linux_of(const spec::Spec& spec) {
  static const spec::Linux empty_linux;
  return spec.linux ? *spec.linux : empty_linux;
}

// What step 1 leaves for the filesystem: host paths opened and trees the parent sent.
struct HostHandles {
  linux::HostPaths host_paths;
  std::vector<UniqueFd> prepared;
};

// 1. Namespaces: join by path (user first), unshare the rest, get id maps, fork the real init
// when needed; then its session, cgroup namespace, loopback, oom score and keyring.
HostHandles enter_namespaces(const CreatePlan& plan, InitState& state) {
  const spec::Spec& spec = *plan.spec;
  const linux::NamespacePlan& ns = plan.namespaces;
  const SyncChannel& channel = *state.channel;
  HostHandles out;
  close_inherited_fds(plan, state);
  join_and_unshare(ns);
  // Relative bind sources are relative to the bundle, as in crun. Entered before the init takes
  // its user namespace's ids, which may not be let in (Podman's bundle is 0700); a privileged
  // runtime entered it before clone instead, for an init that has no privileges on the host.
  if (state.chdir_to_bundle && ::chdir(plan.bundle.c_str()) < 0)
    throw_errno("chdir to the bundle " + quote(plan.bundle));
  // Without a mount namespace of its own the container makes no mounts at all: they would
  // land in the host's mount table (linux/mounts/shared_mount_ns.hpp). Likewise the rootfs and bind
  // sources (linux/mounts/bind_sources.hpp).
  if (state.rootfs.user_ns && ns.own_mount)
    out.host_paths = linux::open_host_paths_in_child(spec, state.rootfs.rootfs);
  // The parent writes the id maps (and places us in the cgroup) even without
  // a new user namespace, and sends any mounts and device nodes it prepared.
  channel.send(Msg::kNeedIdMaps, linux::encode_indices(out.host_paths.refused));
  out.prepared = receive_prepared_mounts(channel, state, spec);
  // The init's own, inherited by the real init and kept across execve; the parent set the
  // scheduler and I/O priority by now (linux/sched_attrs.hpp).
  if (const auto& policy = linux_of(spec).memory_policy) linux::set_memory_policy(*policy);
  if (plan.user_ns()) become_namespace_root();
  // /proc is still the runtime's here (the container's mounts come later), but it is written
  // only once verified, like the container's below. Opened only for a write that needs it.
  std::optional<linux::ProcFs> runtime_proc;
  auto runtime_procfs = [&]() -> const linux::ProcFs& {
    if (!runtime_proc) runtime_proc.emplace(open_procfs("write the runtime's /proc"));
    return *runtime_proc;
  };
  // Before the fork below: the kernel takes offsets only until a process enters the namespace.
  if ((ns.unshare_flags & CLONE_NEWTIME) && !plan.timens_offsets.empty())
    runtime_procfs().write_file("self/timens_offsets", plan.timens_offsets, "set the time offsets");
  // The init must fork once more when its pid or time namespace only applies to children: the
  // real init goes on with the set-up.
  if (ns.needs_fork) fork_and_report_pid_in_child(channel, "the container init");
  // The real init, once forked: it leads the session.
  start_new_session();
  if (ns.unshare_flags & CLONE_NEWCGROUP) {
    if (::unshare(CLONE_NEWCGROUP) < 0) throw_errno("unshare cgroup namespace");
  }
  // Before the hooks, which may configure the namespace further.
  if (ns.new_net) linux::bring_up_loopback();
  const spec::Process& proc = *spec.process;
  if (proc.oom_score_adj) linux::set_oom_score_adj(runtime_procfs(), *proc.oom_score_adj);
  runtime_proc.reset();
  if (!plan.options.no_new_keyring) linux::join_new_session_keyring(plan.options.id);
  return out;
}

// 2. Hostname, the filesystem, the createContainer hooks between its mounts and pivot_root.
// Returns the container's state for the startContainer hooks.
std::string build_filesystem(const CreatePlan& plan, InitState& state, HostHandles host) {
  const spec::Spec& spec = *plan.spec;
  const SyncChannel& channel = *state.channel;
  const bool own_mount_ns = plan.namespaces.own_mount;
  // validate() made sure the UTS namespace is the container's own (spec/host_isolation.hpp).
  linux::set_hostname(spec.hostname);
  linux::set_domainname(spec.domainname);
  state.rootfs.rootfs_fd = host.host_paths.rootfs.get();
  for (const UniqueFd& fd : host.host_paths.bind_sources)
    state.rootfs.source_fds.push_back(fd.get());
  UniqueFd root;
  if (own_mount_ns) root = linux::prepare_rootfs(spec, state.rootfs);
  host = {};
  // prestart and createRuntime hooks run in the runtime namespace (the parent);
  // createContainer hooks run here, in the container's namespaces, before pivot_root.
  channel.send(Msg::kRunHooks);
  std::string state_json = channel.expect(Msg::kHooksDone);
  if (!spec.hooks.create_container.empty())
    run_hooks("createContainer", spec.hooks.create_container, state_json, {});

  if (own_mount_ns) {
    linux::enter_rootfs(root.get(), state.rootfs.rootfs, plan.options.no_pivot);
    root.reset();
  } else {
    linux::enter_rootfs_by_chroot(state.rootfs.rootfs);
  }
  // Sysctls through the container's /proc, checked to be the root of a procfs (linux/procfs.hpp):
  // after pivot_root, so a fresh procfs whose /proc/sys is writable, but before readonlyPaths
  // turn /proc/sys read-only. A sysctl file shows the namespace of the process that opens it,
  // and validate() made sure each is the container's own.
  // Each handle is closed after use: an fd still open when the preserved range loses
  // close-on-exec could have taken a number in it.
  const auto& sysctl = linux_of(spec).sysctl;
  if (!sysctl.empty()) linux::apply_sysctl(open_procfs("set sysctls"), sysctl);
  // While the rootfs is still writable; entered only after the masks (enter_cwd below).
  create_missing_cwd(spec.process->cwd);
  if (own_mount_ns) {
    linux::finish_rootfs(spec);
  } else {
    linux::refuse_paths_to_hide(spec);
  }
  return state_json;
}

// 3. The process: its terminal, fds, user, LSM label and seccomp; ready, start, execve.
[[noreturn]] void start_process(const CreatePlan& plan, InitState& state,
                                const std::string& state_json) {
  const spec::Spec& spec = *plan.spec;
  const spec::Process& proc = *spec.process;
  const SyncChannel& channel = *state.channel;
  // The container's /etc/passwd as the container sees it, read while still root.
  std::vector<std::string> env = proc.env;
  add_home_env(env, proc.user.uid);
  // The console after pivot_root: /dev/ptmx is then the container's, so the
  // pty belongs to its devpts; before the switch to the process user, who
  // may not open it.
  if (proc.terminal) {
    attach_terminal(proc, state.console_socket, channel, true);
    state.console_socket = -1;
  } else {
    // Before the intermediate user namespace, in which the process user may be the only id.
    hand_stdio_to(proc.user);
  }
  linux::apply_rlimits(proc.rlimits);
  // The fds it did not choose to keep were closed first (close_inherited_fds).
  enter_cwd(proc.cwd);
  mark_fds_cloexec(plan.options.preserve_fds);
  clear_cloexec_on_preserved(plan.options.preserve_fds);
  if (plan.intermediate_userns) {
    enter_intermediate_userns(open_procfs("enter the intermediate user namespace"), proc.user);
    state.setgroups_denied = true;
  }
  // Opened while privileged and before seccomp; written just before execve.
  linux::LsmExecAttr lsm_attr(plan.lsm);
  lsm_attr.open();
  // Before seccomp, which may filter personality(2); it lasts across execve.
  if (const auto& personality = linux_of(spec).personality) linux::set_personality(*personality);
  // Seccomp timing: see load_seccomp() in linux/seccomp/seccomp.hpp.
  const linux::SeccompProgram* seccomp = plan.seccomp ? &*plan.seccomp : nullptr;
  if (seccomp && !proc.no_new_privileges) apply_seccomp(*seccomp, channel);
  apply_process_user(proc, plan.keep_original_groups ||
                               (state.setgroups_denied && proc.user.additional_gids.empty()));
  if (seccomp && seccomp->notify && proc.no_new_privileges) apply_seccomp(*seccomp, channel);
  // Resolved as the process user, so a program it may not run fails create.
  std::string program = find_executable(proc.args[0], proc.env);
  if (proc.user.umask) ::umask(*proc.user.umask);

  channel.send(Msg::kReady);
  wait_for_start(plan, channel);
  if (seccomp && !seccomp->notify && proc.no_new_privileges) linux::load_seccomp(*seccomp);
  if (!spec.hooks.start_container.empty())
    run_hooks("startContainer", spec.hooks.start_container, state_json, {});

  // After the hooks: each execve resets the exec attribute.
  lsm_attr.write();
  // LISTEN_PID is the process's pid as it sees it: 1 in a new pid namespace.
  const int listen_fds = plan.options.listen_fds;
  if (listen_fds > 0) add_listen_env(env, listen_fds, static_cast<int>(::getpid()));
  exec_process(program, proc.args, env);
}

// 0. The init moves itself into the container's cgroup v1 hierarchies (its cgroup2 one, if any,
// it was cloned into), before anything else: before it forks or unshares a cgroup namespace,
// whose root is the cgroup it is in then. The files are closed at once, never reaching the
// container.
void join_cgroups_itself(const CreatePlan& plan) {
  for (const CgroupJoinFile& f : plan.handles.cgroup_join_files) {
    join_cgroup_itself(f);
    ::close(f.fd);
  }
}

// The init's set-up, in the order the OCI spec and the kernel require.
[[noreturn]] void run(const CreatePlan& plan, InitState& state) {
  join_cgroups_itself(plan);
  HostHandles host = enter_namespaces(plan, state);
  const std::string state_json = build_filesystem(plan, state, std::move(host));
  start_process(plan, state, state_json);
}

}  // namespace

// Until it execs, the init runs the urun binary. When the container's root
// is the host's root (no user namespace), a container process that can see
// the init could open /proc/<pid>/exe and overwrite urun on the host: a
// non-dumpable init cannot be ptraced nor have that link followed by others.
// In a user namespace the container's root cannot write the root-owned
// binary, and the parent (unprivileged when rootless) must still reach our
// /proc files: no need, and no way, to close them there. execve of the
// container's program resets the flag. The flag only hides the init until it
// execs; runtime/sealed_binary.hpp makes the binary itself unwritable, which
// also covers a container that has urun exec its own /proc/self/exe.
void protect_urun_binary(const CreatePlan& plan) {
  if (!plan.user_ns()) ::prctl(PR_SET_DUMPABLE, 0);
}

void container_init(InitState& state) noexcept {
  protect_urun_binary(*state.plan);
  run_child_guarded(*state.channel, "container init", [&state] { run(*state.plan, state); });
}

}  // namespace urun::runtime
