// create: the container's way from a bundle to an init waiting in "created" (run shares it:
// container/creation.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/pidfd.hpp"
#include "common/scope_exit.hpp"
#include "container/bundle.hpp"
#include "container/cgroup.hpp"
#include "container/commands.hpp"
#include "container/creation.hpp"
#include "container/first_record.hpp"
#include "container/hook_runs.hpp"
#include "container/hooks.hpp"
#include "container/process_io.hpp"
#include "container/status.hpp"
#include "linux/net_devices.hpp"
#include "linux/process_attrs.hpp"
#include "linux/resctrl.hpp"
#include "linux/seccomp/seccomp_cache.hpp"
#include "linux/terminal.hpp"
#include "network/helper.hpp"
#include "network/plan.hpp"
#include "runtime/console.hpp"
#include "runtime/create_plan.hpp"
#include "runtime/launch_init.hpp"
#include "state/store.hpp"
#include "userns/subid.hpp"

namespace urun::container {
namespace {

// Everything create checks and computes before anything exists, the runtime's plan included:
// a failure here leaves nothing behind. Built in place (the reserved fds and the receivers
// stay where they are).
struct CreateInputs {
  CreateInputs(const GlobalOptions& global, const CreateRequest& req, bool foreground, bool detach);
  Bundle bundle;
  std::optional<ReservedFds> reserved;
  PidfdReceiver pidfd_socket, pidfd_receiver;
  cgroups::Resources resources;
  std::optional<linux::ResctrlPlan> resctrl;
  std::optional<network::NetworkPlan> network_plan;
  std::string root;                        // the state root
  std::optional<state::StateStore> store;  // the root checked (owner, mode) and opened
  runtime::CreatePlan plan;
};

CreateInputs::CreateInputs(const GlobalOptions& global, const CreateRequest& req, bool foreground,
                           bool detach)
    : bundle(load_bundle(req.bundle, req.config)) {
  const spec::Spec& spec = bundle.spec;
  // A terminal needs somebody to hold its master: the console socket's
  // receiver, or urun itself in a foreground run (crun's rules and words).
  if (spec.process && spec.process->terminal && req.console_socket.empty()) {
    if (!foreground)
      throw Error("use --console-socket with create when a terminal is used", EINVAL);
    if (detach) throw Error("use --console-socket with --detach when a terminal is used", EINVAL);
  }
  // Socket activation: systemd's fds 3.. pass on after the --preserve-fds
  // ones' place, as crun does (LISTEN_FDS adds to the preserved count).
  const int listen_fds = runtime::parse_listen_fds(::getenv("LISTEN_FDS"));
  reserved.emplace(req.preserve_fds + listen_fds);
  // Connected before anything is made: a wrong path fails create with nothing to undo.
  const int min_fd = 3 + req.preserve_fds + listen_fds;
  if (!req.pidfd_socket.empty())
    pidfd_socket = PidfdReceiver(req.pidfd_socket, "--pidfd-socket", min_fd);
  if (const std::string* path = spec.annotation(kPidfdReceiverAnnotation))
    pidfd_receiver =
        PidfdReceiver(*path, std::string("the ") + kPidfdReceiverAnnotation + " socket", min_fd);
  resources = container_resources(spec);
  // Where resctrl is missing, or lacks what the config asks, create fails here.
  if (spec.linux && !spec.linux->intel_rdt.is_null())
    resctrl = linux::plan_resctrl(linux::parse_intel_rdt(spec.linux->intel_rdt), req.id);
  const runtime::Caller caller = runtime::Caller::detect();
  // Checked (annotations, the helper installed) before anything exists.
  network_plan = network::plan_network(spec, caller.rootless);
  root = state_root(global.root);
  // Before the plan: the seccomp cache lives in the state root, read only once the root has
  // been checked to be the caller's own.
  store.emplace(root);
  runtime::CreateOptions options;
  options.id = req.id;
  options.rootfs = bundle.rootfs;
  options.no_pivot = req.no_pivot || global.no_pivot;
  options.no_new_keyring = req.no_new_keyring;
  options.preserve_fds = req.preserve_fds + listen_fds;
  options.listen_fds = listen_fds;
  options.placeholder_fds = reserved->fds();
  options.foreground = foreground;
  options.seccomp_cache_dir = linux::seccomp_cache_dir(root);
  plan = runtime::plan_create(spec, bundle.dir, std::move(options), caller);
}

// The fds create hands the init: the console socket, connected here, in our mount namespace
// where the path means what the caller meant (the init sends the master on it once the
// container's devpts exists; a path would not resolve from there), and the exec fifo.
struct CreateFds {
  UniqueFd console;
  UniqueFd fifo;
  std::vector<cgroups::SelfJoinFile> cgroup_join;  // the init moves itself in through these
};

CreateFds open_create_fds(const CreateRequest& req, const runtime::CreatePlan& plan, int dir_fd,
                          cgroups::Manager& cgroup) {
  CreateFds fds;
  fds.cgroup_join = cgroup.open_self_join_files();
  if (plan.spec->process->terminal && !req.console_socket.empty())
    fds.console = linux::connect_console_socket(req.console_socket, 3 + plan.options.preserve_fds);
  if (plan.options.foreground) return fds;
  if (::mkfifoat(dir_fd, kExecFifo, 0600) < 0) throw_errno("create exec fifo");
  // O_RDWR never blocks on a fifo and keeps a reader in the init, so that
  // start's non-blocking open for writing succeeds exactly while it waits.
  fds.fifo.reset(::openat(dir_fd, kExecFifo, O_RDWR | O_CLOEXEC));
  if (!fds.fifo) throw_errno("open exec fifo");
  return fds;
}

runtime::CreateHandles create_handles(const CreateFds& fds, const cgroups::Manager& cgroup,
                                      const spec::Spec& spec) {
  runtime::CreateHandles h;
  h.start_fifo_fd = fds.fifo.get();
  h.console_socket = fds.console.get();
  h.cgroup_fd = cgroup.dir_fd();
  for (const auto& f : fds.cgroup_join) h.cgroup_join_files.push_back({f.fd.get(), f.path});
  h.cgroup_mount = cgroup_mount_plan(cgroup, spec);
  h.cgroup_mount_after_join = cgroup_mount_plan_after_join(cgroup, spec);
  return h;
}

// The steps of launch_init that are the container's: its cgroup, resctrl groups, network
// helper, first record and the runtime's hooks.
class CreateSteps : public runtime::ParentSteps {
 public:
  CreateSteps(const CreateInputs& in, cgroups::Manager& cgroup, state::ContainerDir& dir,
              state::Record& rec, std::string& poststop_state)
      : in_(in),
        cgroup_(cgroup),
        dir_(dir),
        rec_(rec),
        poststop_state_(poststop_state),
        hook_output_(open_hook_output(in.bundle.spec, in.bundle.dir)) {}

  void join_cgroup(pid_t init, bool cloned_into_cgroup) override {
    cgroup_.add_process_after_clone(init, cloned_into_cgroup);
  }
  linux::CgroupMountPlan cgroup_mount_after_join() override {
    return cgroup_mount_plan(cgroup_, in_.bundle.spec);
  }
  void after_cgroup_namespace(pid_t init) override { cgroup_.enter_delegate(init); }
  // Without a cgroup the init's pid (with its start time) is the only handle on the container:
  // its first record goes out as soon as that is known (see create_container), while the init
  // makes its mounts (about 0.2 ms, which the init used to wait for in run_runtime_hooks).
  void init_running(pid_t init) override {
    rec_.pid = init;
    rec_.pid_start_time = state::process_start_time(init);
    if (rec_.cgroup_manager == "disabled") dir_.write_identity(rec_, in_.bundle.config_text);
  }
  std::string run_runtime_hooks(pid_t init) override;

  // Started once the init's network namespace exists and before any hook or the container's
  // process runs; stopped again (by its destructor) when the create fails.
  std::optional<network::Helper> network_helper;

 private:
  const CreateInputs& in_;
  cgroups::Manager& cgroup_;
  state::ContainerDir& dir_;
  state::Record& rec_;
  std::string& poststop_state_;
  HookOutput hook_output_;
};

std::string CreateSteps::run_runtime_hooks(pid_t init) {
  // Before the hooks, as the cgroup: the container's processes are forked from this one.
  if (in_.resctrl) rec_.resctrl_dirs = linux::apply_resctrl(*in_.resctrl, init);
  if (in_.network_plan) {
    network_helper.emplace(network::Helper::start(*in_.network_plan, init, dir_.fd(), dir_.path()));
    rec_.helper_pids = network_helper->pids();
    rec_.helper_start_times = network_helper->start_times();
    for (auto& [key, value] : network_helper->annotations()) rec_.annotations[key] = value;
  }
  // Without a cgroup, the first record names what was just started too, before the hooks
  // (which may take long).
  if (rec_.cgroup_manager == "disabled" && (in_.resctrl || in_.network_plan))
    dir_.write_identity(rec_, in_.bundle.config_text);
  const auto& hooks = in_.bundle.spec.hooks;
  if (!hooks.poststop.empty()) poststop_state_ = oci_state_json(rec_, "stopped");
  // "created" (runtime-spec 1.3, as crun): the environment is made, the process has not
  // run. createContainer and startContainer hooks get this state too.
  std::string json = oci_state_json(rec_, "created");
  run_hooks("prestart", hooks.prestart, json, hook_output_.io());
  run_hooks("createRuntime", hooks.create_runtime, json, hook_output_.io());
  return json;
}

}  // namespace

Creation create_container(const GlobalOptions& global, const CreateRequest& req, bool foreground,
                          bool detach) {
  state::validate_id(req.id);
  CreateInputs in(global, req, foreground, detach);
  const spec::Spec& spec = in.bundle.spec;
  // From the prestart hooks on, a failure continues the lifecycle at its step 12
  // (runtime-spec 1.3): the container is destroyed (by the guards declared below, which
  // run first) and then the poststop hooks run, with the state set when the hooks began.
  std::string poststop_state;
  ScopeExit poststop_after_failure([&] {
    if (!poststop_state.empty())
      run_poststop_hooks(spec, in.bundle.dir, poststop_state, "create " + quote(req.id));
  });
  state::ContainerDir dir = in.store->create(req.id);
  ScopeExit remove_dir([&dir] { remove_failed_state(dir, "create"); });
  const bool rootless = in.plan.caller.rootless;
  std::unique_ptr<cgroups::Manager> cgroup =
      choose_cgroup(global, spec, in.resources, req.id, in.root, rootless);
  state::Record rec = creating_record(req.id, in.bundle, *cgroup, global.systemd_cgroup, detach);
  rec.rootless = rootless;
  rec.poststart_hooks = !spec.hooks.poststart.empty();
  // Made and claimed first (setup_cgroup refuses a cgroup another container
  // runs in, changing nothing); from here a failure undoes what this create
  // made, and nothing else.
  setup_cgroup(*cgroup, in.resources);
  ScopeExit undo_cgroup_on_failure([&cgroup] { undo_cgroup(*cgroup); });
  // If this process is killed mid-create, `delete` must find what it left:
  // the cgroup finds every process, so the first record is written before any
  // process exists, once the cgroup is this container's (written earlier, a
  // `delete` would destroy a cgroup the create was about to refuse); without
  // a cgroup the init's pid (with its start time) is the only handle, so it is
  // written once that is known (CreateSteps::init_running). An init whose runtime
  // dies before that exits on its own: its end of the sync socket reads EOF.
  // That first record goes to identity.json and stays, so that `delete
  // --force` can still find the processes when state.json is lost
  // (store.hpp); the final write makes state.json. One write more than a
  // single final one either way (about 0.1 ms).
  // The config text rides along in that record (state/store.hpp): no copy of its own.
  if (rec.cgroup_manager != "disabled") dir.write_identity(rec, in.bundle.config_text);
  CreateFds fds = open_create_fds(req, in.plan, dir.fd(), *cgroup);
  in.plan.handles = create_handles(fds, *cgroup, spec);
  ScopeExit undo_resctrl_on_failure([&rec] { linux::remove_resctrl_dirs(rec.resctrl_dirs); });
  CreateSteps steps(in, *cgroup, dir, rec, poststop_state);
  runtime::LaunchedInit init = runtime::launch_init(in.plan, steps);
  // The systemd manager learns its cgroup only once the init is in its scope.
  rec.cgroup_path = cgroup->path();
  if (rec.cgroup_manager != "disabled") rec.cgroup = cgroup->to_state();
  fds.console.reset();
  in.pidfd_socket.send(init.pid, "standard");
  in.pidfd_receiver.send(init.pid, "standard");
  // The final record is written while failure still removes the state dir
  // and cgroup: a run's container is "running" from here (it starts next).
  rec.status = foreground ? "running" : "created";
  write_pid_file(req.pid_file, init.pid);
  dir.write(rec);
  remove_dir.dismiss();
  undo_cgroup_on_failure.dismiss();
  undo_resctrl_on_failure.dismiss();
  if (steps.network_helper) steps.network_helper->release();
  poststop_after_failure.dismiss();
  return Creation{std::move(cgroup), std::move(dir), std::move(init), std::move(rec),
                  std::move(in.bundle)};
}

void create(const GlobalOptions& global, const CreateRequest& request) {
  Creation c = create_container(global, request, false);
  c.init.guard.release();
}

}  // namespace urun::container
