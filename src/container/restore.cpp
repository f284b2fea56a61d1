// restore: a container made again from CRIU images. urun makes what CRIU
// does not (the state record, the cgroup, the rootfs bind CRIU pivots into)
// and lets CRIU recreate the processes, namespaces and mounts; the result is
// an ordinary urun container (state, kill, exec, ps, delete with poststop).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/child_guard.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/scope_exit.hpp"
#include "container/bundle.hpp"
#include "container/cgroup.hpp"
#include "container/checkpoint.hpp"
#include "container/checkpoint_paths.hpp"
#include "container/first_record.hpp"
#include "container/process_io.hpp"
#include "container/status.hpp"
#include "container/teardown.hpp"
#include "criu/criu.hpp"
#include "criu/describe.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/path.hpp"
#include "linux/terminal.hpp"
#include "state/store.hpp"
#include "userns/subid.hpp"

namespace urun::container {
namespace {

constexpr const char* kCriuRoot = "criu-root";
constexpr const char* kCriuPidFile = "criu.pid";

// Mount points the config names must exist in the rootfs for CRIU to mount
// on (a fresh copy of the rootfs, as after `podman container restore
// --import`, lacks the ones create made). Those on a tmpfs of the config are
// CRIU's to make; cgroup mounts it recreates itself.
void ensure_mount_points(const spec::Spec& spec, const std::string& bundle_dir,
                         const std::string& rootfs) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("open rootfs " + quote(rootfs));
  for (const auto& m : spec.mounts) {
    if (m.type == "cgroup" || m.type == "cgroup2") continue;
    const std::string dest = linux::clean_path(m.destination);
    bool on_tmpfs = false;
    for (const auto& t : spec.mounts) {
      const std::string under = linux::clean_path(t.destination);
      on_tmpfs |= t.type == "tmpfs" && dest.size() > under.size() &&
                  dest.compare(0, under.size(), under) == 0 &&
                  (under == "/" || dest[under.size()] == '/');
    }
    if (on_tmpfs) continue;
    // A bind mount of a file needs a file to mount on.
    bool is_dir = true;
    if (linux::is_bind_mount(m, linux::parse_mount_options(m.options))) {
      std::string source = m.source;
      if (source.empty() || source[0] != '/') source = bundle_dir + "/" + source;
      struct stat st {};
      if (::stat(source.c_str(), &st) == 0) is_dir = S_ISDIR(st.st_mode);
    }
    linux::ensure_in_root(root.get(), dest, is_dir);
  }
}

// --inherit-fd for the namespaces joined by path (CRIU puts the restored tree
// into them, by the keys the dump named them with) and for the stdio pipes the
// dump found (ours replace them).
struct Inherited {
  std::vector<UniqueFd> fds;
  std::vector<std::string> args;
};

Inherited inherited_fds(const spec::Spec& spec, const std::string& image_dir) {
  Inherited out;
  for (const auto& [type, path] : criu::joined_namespaces(spec)) {
    if (type != "network" && type != "pid") continue;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open namespace " + quote(path));
    out.args.push_back("--inherit-fd");
    out.args.push_back("fd[" + std::to_string(fd.get()) +
                       "]:" + (type == "network" ? criu::kNetNsKey : criu::kPidNsKey));
    out.fds.push_back(std::move(fd));
  }
  const std::string file = image_dir + "/" + criu::kDescriptorsFile;
  if (::access(file.c_str(), F_OK) != 0) return out;
  nlohmann::json fds;
  try {
    fds = nlohmann::json::parse(fs::read_file_limited(file, 1 << 16));
  } catch (const nlohmann::json::exception& e) {
    throw Error("read " + quote(file) + ": " + e.what(), EINVAL);
  }
  for (size_t i = 0; i < 3 && fds.is_array() && i < fds.size(); ++i) {
    if (!fds[i].is_string()) continue;
    const std::string what = fds[i].get<std::string>();
    if (what.rfind("pipe:", 0) != 0 && what.rfind("file[", 0) != 0) continue;
    if (::fcntl(static_cast<int>(i), F_GETFD) < 0) continue;
    out.args.push_back("--inherit-fd");
    out.args.push_back("fd[" + std::to_string(i) + "]:" + what);
  }
  return out;
}

std::vector<std::string> restore_args(const RestoreRequest& req, const Bundle& bundle,
                                      const std::string& image_dir, const std::string& state_dir,
                                      const cgroups::Manager& cgroup) {
  criu::Externals externals;
  const std::string file = image_dir + "/" + criu::kExternalsFile;
  if (::access(file.c_str(), F_OK) == 0)
    externals = criu::externals_from_json(fs::read_file_limited(file, 1 << 20), file);
  // The new container's cgroup directories, bound where the old ones were.
  std::map<std::string, std::string> cgroup_dirs;
  if (!cgroup.cgroupfs_root().empty())
    for (const auto& [hierarchy, path] : cgroup.hierarchy_paths())
      cgroup_dirs[hierarchy] = cgroup.cgroupfs_root() + "/" + hierarchy + path;
  std::vector<std::string> args{"--images-dir",
                                image_dir,
                                "--root",
                                state_dir + "/" + kCriuRoot,
                                "--restore-detached",
                                "--restore-sibling",
                                "--pidfile",
                                state_dir + "/" + kCriuPidFile,
                                criu::manage_cgroups_arg(req.manage_cgroups_mode)};
  // The restored tasks go into the cgroup made for this container.
  if (!cgroup.path().empty()) args.insert(args.end(), {"--cgroup-root", cgroup.path()});
  auto mounts = criu::restore_mount_args(bundle.spec, bundle.dir, externals, cgroup_dirs);
  args.insert(args.end(), mounts.begin(), mounts.end());
  auto join = criu::restore_join_ns_args(bundle.spec);
  args.insert(args.end(), join.begin(), join.end());
  if (!req.lsm_profile.empty()) args.insert(args.end(), {"--lsm-profile", req.lsm_profile});
  if (!req.lsm_mount_context.empty())
    args.insert(args.end(), {"--lsm-mount-context", req.lsm_mount_context});
  if (req.tcp_close) args.push_back("--tcp-close");
  auto flags = criu_flag_args(req);
  args.insert(args.end(), flags.begin(), flags.end());
  return args;
}

pid_t read_restored_pid(int dir_fd) {
  auto text = fs::read_file_at(dir_fd, kCriuPidFile);
  ::unlinkat(dir_fd, kCriuPidFile, 0);
  long pid = text ? std::strtol(text->c_str(), nullptr, 10) : 0;
  if (pid <= 0) throw Error("CRIU restored the container but reported no pid", EPROTO);
  return static_cast<pid_t>(pid);
}

// Runs CRIU on the prepared state directory; returns the restored init's pid
// (our child: --restore-sibling). The rootfs bind it pivots into is gone
// again when this returns, whichever way.
pid_t run_criu_restore(const std::string& criu_binary, const RestoreRequest& req,
                       const Bundle& bundle, const CheckpointDirs& dirs,
                       const state::ContainerDir& dir, const cgroups::Manager& cgroup) {
  ensure_mount_points(bundle.spec, bundle.dir, bundle.rootfs);
  if (::mkdirat(dir.fd(), kCriuRoot, 0700) < 0) throw_errno("create the restore's root directory");
  // CRIU runs in the work directory: its paths must be absolute.
  const std::string state_dir = fs::real_path(dir.path());
  const std::string criu_root = state_dir + "/" + kCriuRoot;
  ScopeExit remove_root([&] {
    ::umount2(criu_root.c_str(), MNT_DETACH);
    ::unlinkat(dir.fd(), kCriuRoot, AT_REMOVEDIR);
  });
  Inherited inherited = inherited_fds(bundle.spec, dirs.image);
  criu::Invocation inv;
  inv.binary = criu_binary;
  inv.action = "restore";
  inv.args = restore_args(req, bundle, dirs.image, state_dir, cgroup);
  inv.args.insert(inv.args.end(), inherited.args.begin(), inherited.args.end());
  for (const auto& fd : inherited.fds) inv.fds_to_pass.push_back(fd.get());
  inv.work_dir = dirs.work;
  inv.log_name = "restore.log";
  inv.step = "restore (CRIU restore)";
  // CRIU makes a new pty for a checkpointed terminal and hands its master
  // over (RPC mode): it goes to the console socket, as create sends its own.
  UniqueFd console;
  if (bundle.spec.process && bundle.spec.process->terminal) {
    console = linux::connect_console_socket(req.console_socket);
    inv.rpc = true;
    inv.on_pty_master = [&console](int master) { linux::send_console_fd(console.get(), master); };
  }
  criu::bind_in_private_namespace(bundle.rootfs, criu_root);
  pid_t pid = criu::run(inv);
  return pid > 0 ? pid : read_restored_pid(dir.fd());
}

}  // namespace

int restore(const GlobalOptions& global, const RestoreRequest& req) {
  refuse_unprivileged_criu("restore");
  state::validate_id(req.id);
  const std::string criu_binary = require_criu("restore");
  criu::manage_cgroups_arg(req.manage_cgroups_mode);
  Bundle bundle = load_bundle(req.bundle, req.config);
  if (bundle.spec.process && bundle.spec.process->terminal && req.console_socket.empty())
    throw Error("use --console-socket with restore when a terminal is used", EINVAL);
  CheckpointDirs dirs = prepare_checkpoint_dirs(req.image_path, req.work_path, false);

  sigset_t set = forwarded_signals(), old;
  if (!req.detach) ::sigprocmask(SIG_BLOCK, &set, &old);
  cgroups::Resources resources = container_resources(bundle.spec);
  const std::string root = state_root(global.root);
  state::StateStore store(root);
  state::ContainerDir dir = store.create(req.id);
  ScopeExit remove_dir([&dir] { remove_failed_state(dir, "restore"); });
  auto cgroup = choose_cgroup(global, bundle.spec, resources, req.id, root, false);
  state::Record rec = creating_record(req.id, bundle, *cgroup, global.systemd_cgroup, req.detach);
  rec.poststart_hooks = false;  // a restored container is already running: none run
  setup_cgroup(*cgroup, resources);
  ScopeExit undo_cgroup_on_failure([&cgroup] { undo_cgroup(*cgroup); });
  // As create: written before any process exists, so that a `delete` finds
  // what a killed restore left through the cgroup.
  if (rec.cgroup_manager != "disabled") dir.write_identity(rec);
  fs::write_file_atomic_at(dir.fd(), "config.json", bundle.config_text);

  ChildGuard restored(run_criu_restore(criu_binary, req, bundle, dirs, dir, *cgroup));
  rec.pid = restored.pid();
  rec.pid_start_time = state::process_start_time(rec.pid);
  rec.status = "running";
  write_pid_file(req.pid_file, rec.pid);
  dir.write(rec);
  restored.release();
  remove_dir.dismiss();
  undo_cgroup_on_failure.dismiss();
  if (req.detach) return 0;

  // In the foreground, as `run`: wait for the restored init, then clean up.
  dir.unlock();
  int status = wait_forwarding_signals(rec.pid, set, "the container process");
  if (!dir.relock()) return status;
  destroy_container(dir, rec, false, &bundle.spec, "restore " + quote(req.id));
  return status;
}

}  // namespace urun::container
