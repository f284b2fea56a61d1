// checkpoint: the running container described to CRIU (criu/describe.hpp) and
// dumped (or pre-dumped) into the image directory.
#include "container/checkpoint.hpp"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "container/checkpoint_paths.hpp"
#include "container/status.hpp"
#include "criu/criu.hpp"
#include "criu/describe.hpp"
#include "linux/process_attrs.hpp"
#include "state/store.hpp"

namespace urun::container {
namespace {

// What the init's fds 0-2 are, by the names CRIU knows them by at restore:
// "pipe:[123]" for a pipe, "file[MNT:INO]" (hex) for a file of a mount outside
// the container (the host's /dev/null, a log file: CRIU cannot dump those, so
// they are declared external) and otherwise the link ("/dev/pts/0"). A
// restore hands its own fds in for the first two kinds (Podman's conmon makes
// new pipes for the restored container's output).
std::vector<std::string> stdio_descriptors(pid_t pid, const std::string& mountinfo) {
  std::vector<std::string> out;
  for (int fd = 0; fd < 3; ++fd) {
    const std::string base = "/proc/" + std::to_string(pid);
    const std::string link = base + "/fd/" + std::to_string(fd);
    char buf[PATH_MAX];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    std::string target = n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
    struct stat st {};
    if (n < 0 || ::stat(link.c_str(), &st) < 0 || target.rfind("pipe:", 0) == 0 ||
        target.rfind("socket:", 0) == 0 || target.rfind("anon_inode:", 0) == 0) {
      out.push_back(target);
      continue;
    }
    std::string mnt_id;
    try {
      auto info = fs::read_file(base + "/fdinfo/" + std::to_string(fd));
      auto at = info.find("mnt_id:");
      if (at != std::string::npos) mnt_id = info.substr(at + 7, info.find('\n', at) - at - 7);
    } catch (const Error&) {
    }
    mnt_id.erase(0, mnt_id.find_first_not_of(" \t"));
    // The container's own mounts are in its mountinfo, by id at the start of a line.
    bool inside = mnt_id.empty() || mountinfo.rfind(mnt_id + " ", 0) == 0 ||
                  mountinfo.find("\n" + mnt_id + " ") != std::string::npos;
    if (inside) {
      out.push_back(target);
      continue;
    }
    char key[64];
    std::snprintf(key, sizeof key, "file[%lx:%llx]", std::stoul(mnt_id),
                  static_cast<unsigned long long>(st.st_ino));
    out.push_back(key);
  }
  return out;
}

// The freezer cgroup of the container on v1 (CRIU then freezes every process
// of the container at once rather than seizing the tree task by task).
std::string freezer_path(const state::Record& rec) {
  if (!rec.cgroup.is_object()) return "";
  auto paths = rec.cgroup.find("paths");
  if (paths == rec.cgroup.end() || !paths->is_object()) return "";
  auto freezer = paths->find("freezer");
  if (freezer == paths->end() || !freezer->is_string()) return "";
  auto root = rec.cgroup.find("root");
  if (root == rec.cgroup.end() || !root->is_string()) return "";
  return root->get<std::string>() + "/freezer" + freezer->get<std::string>();
}

std::vector<std::string> dump_args(const CheckpointRequest& req, const state::Record& rec,
                                   const spec::Spec& spec, const std::string& image_dir,
                                   const criu::Externals& externals, bool track_mem) {
  std::vector<std::string> args{"--tree",
                                std::to_string(rec.pid),
                                "--images-dir",
                                image_dir,
                                "--root",
                                rec.rootfs,
                                criu::manage_cgroups_arg(req.manage_cgroups_mode)};
  if (!req.parent_path.empty()) {
    // Relative to the image directory, as CRIU resolves it.
    args.insert(args.end(), {"--prev-images-dir", req.parent_path});
  }
  // Only a kernel with soft-dirty bits tells CRIU which pages changed since
  // the pre-dump; without them every dump copies all memory (still correct).
  if ((req.pre_dump || !req.parent_path.empty()) && track_mem) args.push_back("--track-mem");
  if (req.pre_dump) return args;  // memory only: the rest belongs to the final dump
  auto mounts = criu::dump_mount_args(spec, externals);
  args.insert(args.end(), mounts.begin(), mounts.end());
  for (const auto& [type, path] : criu::joined_namespaces(spec)) {
    if (type != "network" && type != "pid") continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) throw_errno("stat namespace " + quote(path));
    args.push_back("--external");
    args.push_back((type == "network" ? "net[" : "pid[") + std::to_string(st.st_ino) +
                   "]:" + (type == "network" ? criu::kNetNsKey : criu::kPidNsKey));
  }
  if (auto freezer = freezer_path(rec); !freezer.empty())
    args.insert(args.end(), {"--freeze-cgroup", freezer});
  if (req.leave_running) args.push_back("--leave-running");
  if (req.tcp_established) args.push_back("--tcp-established");
  if (req.ext_unix_sk) args.push_back("--ext-unix-sk");
  if (req.shell_job) args.push_back("--shell-job");
  if (req.file_locks) args.push_back("--file-locks");
  return args;
}

}  // namespace

void refuse_unprivileged_criu(const std::string& what) {
  if (::geteuid() == 0 && linux::in_initial_user_namespace()) return;
  throw Error(what +
                  " needs root in the initial user namespace: CRIU must ptrace the container's "
                  "processes and recreate its namespaces and mounts, which an unprivileged user "
                  "(or root of a user namespace) may not do",
              EPERM);
}

void checkpoint(const GlobalOptions& global, const CheckpointRequest& req) {
  refuse_unprivileged_criu("checkpoint");
  state::validate_id(req.id);
  const std::string criu_binary = require_criu("checkpoint");
  if (!req.parent_path.empty() && req.parent_path[0] == '/')
    throw Error("--parent-path " + quote(req.parent_path) +
                    " must be relative to the image path, not absolute",
                EINVAL);
  criu::manage_cgroups_arg(req.manage_cgroups_mode);  // refuses a bad mode first

  state::StateStore store(state_root(global.root));
  state::ContainerDir dir = store.open(req.id);
  state::Record rec = dir.read();
  const std::string status = current_status(rec);
  if (status != "running")
    throw Error("container " + quote(req.id) + " is not running (it is " + status + ")", EINVAL);
  auto config = dir.read_config();
  if (!config) throw Error("the container's config copy is missing", ENOENT);
  spec::Spec spec = spec::parse(*config);

  // A pre-dump is CRIU's memory change tracking: without the kernel's
  // soft-dirty bits CRIU would stop on an internal BUG, so say it here.
  const bool track_mem = (req.pre_dump || !req.parent_path.empty()) &&
                         criu::has_feature(criu_binary, "mem_dirty_track");
  if (req.pre_dump && !track_mem)
    throw Error(
        "--pre-dump needs the kernel's memory change tracking (soft-dirty bits, "
        "CONFIG_MEM_SOFT_DIRTY), which this kernel lacks (`criu check --feature "
        "mem_dirty_track`)",
        ENOTSUP);
  CheckpointDirs dirs = prepare_checkpoint_dirs(req.image_path, req.work_path, true);
  const std::string pid_dir = "/proc/" + std::to_string(rec.pid);
  const std::string mountinfo = fs::read_file(pid_dir + "/mountinfo");
  const auto mounts = criu::parse_mountinfo(mountinfo);
  criu::Externals externals = criu::host_backed_mounts(spec, mounts);
  const auto stdio = stdio_descriptors(rec.pid, mountinfo);
  if (!req.pre_dump) {
    fs::write_file(dirs.image + "/" + criu::kExternalsFile, criu::externals_to_json(externals),
                   0600);
    fs::write_file(dirs.image + "/" + criu::kDescriptorsFile, nlohmann::json(stdio).dump() + "\n",
                   0600);
  }

  criu::Invocation inv;
  inv.binary = criu_binary;
  inv.action = req.pre_dump ? "pre-dump" : "dump";
  inv.args = dump_args(req, rec, spec, dirs.image, externals, track_mem);
  for (const auto& fd : stdio)
    if (!req.pre_dump && fd.rfind("file[", 0) == 0)
      inv.args.insert(inv.args.end(), {"--external", fd});
  inv.work_dir = dirs.work;
  inv.log_name = req.pre_dump ? "pre-dump.log" : "dump.log";
  inv.step = req.pre_dump ? "pre-dump (CRIU pre-dump)" : "checkpoint (CRIU dump)";
  // The pty's master is with the console socket's receiver, outside the
  // container: only CRIU's RPC mode (orphan-pts-master) dumps the pty without it.
  inv.rpc = spec.process && spec.process->terminal;
  try {
    criu::run(inv);
  } catch (Error&) {
    dirs.remove_made_on_failure();
    throw;
  }
  // Without --leave-running CRIU has killed the processes: the container is
  // "stopped" from now on (its status follows the init's liveness) and
  // `delete` removes its cgroup and runs its poststop hooks.
}

}  // namespace urun::container
