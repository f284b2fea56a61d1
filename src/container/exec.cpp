// exec: a new process in an existing container. This side computes the
// process (the container's, with the command line's overrides), checks the
// container, and waits; runtime/exec.cpp joins the namespaces and execs.
#include "runtime/exec.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "cgroups/cgroupfs_v1.hpp"
#include "cgroups/manager.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/pidfd.hpp"
#include "container/cgroup.hpp"
#include "container/operations.hpp"
#include "container/process_io.hpp"
#include "container/status.hpp"
#include "linux/capabilities.hpp"
#include "linux/resctrl.hpp"
#include "linux/seccomp.hpp"
#include "linux/seccomp_cache.hpp"
#include "linux/terminal.hpp"
#include "spec/json_document.hpp"
#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {
namespace {

std::optional<uint32_t> parse_id(std::string_view text) {
  uint32_t value = 0;
  if (text.empty() || text.size() > 10) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  // (uid_t)-1 means "unchanged" to setresuid: never a real id.
  if (value == UINT32_MAX) return std::nullopt;
  return value;
}

// "UID" or "UID:GID", numbers only (no names: the container's /etc/passwd is
// not ours to read). A bare UID runs with gid 0, as in crun and runc.
void apply_user_option(const std::string& text, spec::User& user) {
  size_t colon = text.find(':');
  auto uid = parse_id(std::string_view(text).substr(0, colon));
  std::optional<uint32_t> gid = 0;
  if (colon != std::string::npos) gid = parse_id(std::string_view(text).substr(colon + 1));
  if (!uid || !gid) throw Error("invalid --user " + quote(text) + ": expected UID[:GID]", EINVAL);
  user.uid = *uid;
  user.gid = *gid;
}

void apply_env_option(const std::string& kv, std::vector<std::string>& env) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("invalid --env " + quote(kv) + ": expected KEY=VALUE", EINVAL);
  std::string_view key(kv.data(), eq + 1);  // with '=': "FOO" must not match "FOOBAR="
  for (auto& e : env) {
    if (std::string_view(e).starts_with(key)) {
      e = kv;
      return;
    }
  }
  env.push_back(kv);
}

void add_capability(std::vector<std::string>& set, const std::string& name) {
  for (const auto& have : set)
    if (linux::capability_from_name(have) == linux::capability_from_name(name)) return;
  set.push_back(name);
}

// "sys_admin" -> "CAP_SYS_ADMIN"; unknown names fail before anything runs.
std::string capability_name(const std::string& text) {
  if (linux::capability_from_name(text) < 0)
    throw Error("invalid --cap " + quote(text) + ": unknown capability", EINVAL);
  std::string name;
  for (char c : text)
    name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name.starts_with("CAP_") ? name : "CAP_" + name;
}

// Whether a path, read as written, climbs above "/" with "..": "/../etc" or
// "/a/../../b". Harmless to the kernel (".." stops at the root), but nothing a
// caller asks for in earnest, so exec refuses such a cwd rather than guess.
bool climbs_above_root(std::string_view path) {
  int depth = 0;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return false;
}

// Bounded like config.json, but a pipe is read too: the caller names this file on the command
// line (crun takes `--process <(...)` and /dev/stdin). Directories, devices and sockets are
// refused.
spec::Process read_process_file(const std::string& path) {
  std::string text = fs::read_regular_file_or_pipe(path, spec::kMaxDocumentBytes);
  try {
    nlohmann::json j = spec::parse_document(text);
    // The file holds the process object itself: its paths start inside it ("user.uid").
    return spec::process_from_json(j, "");
  } catch (Error& e) {
    e.prepend("process file " + quote(path));
    throw;
  }
}

// The container's process with the command line's changes, or --process.
spec::Process make_process(const ExecRequest& req, const spec::Spec& spec) {
  spec::Process proc;
  if (!req.process_file.empty()) {
    if (!req.args.empty()) throw Error("a command cannot be given together with --process", EINVAL);
    proc = read_process_file(req.process_file);
    if (climbs_above_root(proc.cwd))
      throw Error("process file " + quote(req.process_file) + ": cwd " + quote(proc.cwd) +
                      ": `..` leads above the container's root",
                  EINVAL);
  } else {
    if (spec.process) proc = *spec.process;
    proc.args = req.args;
    proc.terminal = req.tty;
    // The init's adjustment is inherited by its children; the exec'd process
    // inherits urun's and the kernel keeps it within the container's limits.
    proc.oom_score_adj.reset();
  }
  if (proc.args.empty()) throw Error("no command given", EINVAL);
  // Conmon passes both --process and --tty: either asks for a terminal.
  if (req.tty) proc.terminal = true;
  for (const auto& kv : req.env) apply_env_option(kv, proc.env);
  if (!req.cwd.empty()) {
    if (!req.cwd.starts_with('/'))
      throw Error("invalid --cwd " + quote(req.cwd) + ": must be an absolute path", EINVAL);
    if (climbs_above_root(req.cwd))
      throw Error("invalid --cwd " + quote(req.cwd) + ": `..` leads above the container's root",
                  EINVAL);
    proc.cwd = req.cwd;
  }
  if (!req.user.empty()) apply_user_option(req.user, proc.user);
  if (!req.caps.empty()) {
    if (!proc.capabilities) proc.capabilities.emplace();
    for (const auto& text : req.caps) {
      std::string name = capability_name(text);
      for (auto* set : {&proc.capabilities->bounding, &proc.capabilities->effective,
                        &proc.capabilities->permitted})
        add_capability(*set, name);
    }
  }
  for (uint32_t gid : req.additional_gids) proc.user.additional_gids.push_back(gid);
  if (req.no_new_privs) proc.no_new_privileges = true;
  // Applied like the init's when the host runs the module (linux/lsm.hpp).
  for (const auto* label : {&req.apparmor, &req.process_label})
    if (label->find_first_of(std::string("\n\0", 2)) != std::string::npos)
      throw Error(std::string(label == &req.apparmor ? "--apparmor" : "--process-label") +
                      ": a label cannot contain a newline or NUL",
                  EINVAL);
  if (!req.apparmor.empty()) proc.apparmor_profile = req.apparmor;
  if (!req.process_label.empty()) proc.selinux_label = req.process_label;
  return proc;
}

// The directories of the --cgroup sub-cgroup, checked before fork. On cgroup
// v2 the one below the container's cgroup. On a v1 or hybrid host, as in crun,
// the sub-cgroup in every hierarchy where it exists below the container's
// cgroup there (read from the init's /proc/<pid>/cgroup, so any manager's
// layout is followed); it must exist in at least one.
std::vector<std::string> sub_cgroup_dirs(const cgroups::Manager& cgroup, pid_t init,
                                         const std::string& sub) {
  std::string_view rest = sub;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part == "..")
      throw Error("--cgroup " + quote(sub) + ": leaves the container's cgroup", EINVAL);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  if (cgroup.kind() == "disabled")
    throw Error("--cgroup " + quote(sub) + ": the container has no cgroup", EINVAL);
  auto is_dir = [](const std::string& dir) {
    struct stat st {};
    return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  };
  const std::string root = cgroups::kDefaultRoot;
  std::vector<std::string> dirs;
  if (cgroups::detect_layout(root) == cgroups::Layout::unified) {
    std::string dir = root + cgroup.path() + "/" + sub;
    if (is_dir(dir)) dirs.push_back(dir);
  } else {
    auto paths =
        cgroups::parse_proc_cgroup(fs::read_file("/proc/" + std::to_string(init) + "/cgroup"));
    for (const auto& h : cgroups::list_hierarchies(root)) {
      auto it = paths.find(cgroups::proc_cgroup_key(h));
      if (it == paths.end()) continue;
      std::string dir = root + "/" + h.name + (it->second == "/" ? "" : it->second) + "/" + sub;
      if (is_dir(dir)) dirs.push_back(dir);
    }
  }
  if (dirs.empty())
    throw Error("--cgroup " + quote(sub) + ": no such sub-cgroup of the container", ENOENT);
  return dirs;
}

// A --cgroup sub-cgroup frozen in its own right (v1 freezer.state, v2
// cgroup.freeze); the container's cgroup is asked through its manager.
bool sub_cgroup_frozen(const std::string& dir) {
  for (const auto& [file, thawed] :
       {std::pair{"freezer.state", "THAWED"}, {"cgroup.freeze", "0"}}) {
    auto text = fs::read_file_at(AT_FDCWD, dir + "/" + file);
    if (!text) continue;
    while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back())))
      text->pop_back();
    return *text != thawed;
  }
  return false;
}

}  // namespace

int exec(const GlobalOptions& global, const ExecRequest& req) {
  state::validate_id(req.id);
  // Before urun opens anything (see ReservedFds).
  ReservedFds reserved(req.preserve_fds);
  // Shared, from the check of the status until the process has exec'd: `pause`
  // takes the lock exclusively, so it cannot freeze a process that is still
  // starting (frozen, it would never exec). Let go of before the wait for the
  // process: a long exec must not block kill, delete or pause.
  state::StateStore store(state_root(global.root));
  state::ContainerDir dir = store.open(req.id, false);
  if (!dir.has_record()) throw Error("container " + quote(req.id) + " is not running", ESRCH);
  state::Record rec = dir.read();
  auto text = dir.read_config();
  if (!text) throw Error("read the container's config.json: missing", ENOENT);
  spec::Spec spec = spec::parse(*text);
  spec::Process proc = make_process(req, spec);
  std::string status = current_status(rec);
  // A created container's init is alive and its namespaces exist: crun execs there too.
  if (status == "paused" && !req.ignore_paused)
    throw Error("container " + quote(req.id) + " is paused", EBUSY);
  if (status != "running" && status != "created" && status != "paused")
    throw Error("container " + quote(req.id) + " is not running", ESRCH);
  std::unique_ptr<cgroups::Manager> cgroup = cgroup_of(rec);
  // The exec'd process joins the container's resctrl groups as it joins its cgroup.
  std::optional<linux::ResctrlPlan> resctrl;
  if (spec.linux && !spec.linux->intel_rdt.is_null())
    resctrl = linux::plan_resctrl(linux::parse_intel_rdt(spec.linux->intel_rdt), req.id);
  std::vector<std::string> sub_dirs = req.cgroup.empty()
                                          ? std::vector<std::string>{}
                                          : sub_cgroup_dirs(*cgroup, rec.pid, req.cgroup);
  // linux.seccomp is the container's: --process cannot change it (crun).
  std::optional<linux::SeccompProgram> seccomp =
      linux::seccomp_for(spec, linux::seccomp_cache_dir(state_root(global.root)));
  if (proc.terminal && req.detach && req.console_socket.empty())
    throw Error("use --console-socket with --detach when a terminal is used", EINVAL);
  // Connected here, in our mount namespace (see create.cpp).
  UniqueFd console;
  if (proc.terminal && !req.console_socket.empty())
    console = linux::connect_console_socket(req.console_socket, 3 + req.preserve_fds);
  PidfdReceiver pidfd_socket;
  if (!req.pidfd_socket.empty())
    pidfd_socket = PidfdReceiver(req.pidfd_socket, "--pidfd-socket", 3 + req.preserve_fds);

  sigset_t set = forwarded_signals(), old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  runtime::ExecRequest launch;
  launch.init_pid = rec.pid;
  launch.process = &proc;
  launch.preserve_fds = req.preserve_fds;
  launch.console_socket = console.get();
  launch.placeholder_fds = reserved.fds();
  launch.keep_original_groups = spec.annotation("run.oci.keep_original_groups") != nullptr;
  launch.seccomp = seccomp ? &*seccomp : nullptr;
  // The container's, for every process of it (as crun and runc apply them to exec).
  if (spec.linux && spec.linux->personality) launch.personality = &*spec.linux->personality;
  if (spec.linux && spec.linux->memory_policy) launch.memory_policy = &*spec.linux->memory_policy;
  // The host's /sys is read only when a label is asked for.
  if (proc.apparmor_profile || proc.selinux_label)
    launch.lsm = linux::lsm_labels(proc, linux::detect_lsm_host());
  if (seccomp && seccomp->notify) launch.state_json = oci_state_json(rec, status);
  launch.join_cgroup = [&](pid_t pid) {
    // Into the container's cgroup first: on v1 the hierarchies without the
    // sub-cgroup keep the process there, not in the caller's cgroups.
    cgroup->add_process(pid);
    for (const auto& sub : sub_dirs) fs::write_existing(sub + "/cgroup.procs", std::to_string(pid));
    if (resctrl) linux::add_resctrl_task(*resctrl, pid);
  };
  // The signals that end a foreground exec end a starting one too.
  launch.abort_signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  // `pause` waits for our lock; someone writing the freezer directly does not. With
  // --ignore-paused the process waits, frozen, for `resume` instead.
  if (!req.ignore_paused) {
    launch.process_frozen = [&] {
      try {
        if (cgroup->is_frozen()) return true;
        for (const auto& sub : sub_dirs)
          if (sub_cgroup_frozen(sub)) return true;
      } catch (const Error&) {
        // A cgroup gone meanwhile is no frozen one.
      }
      return false;
    };
  }
  runtime::ExecedProcess process = runtime::exec_in_container(launch);
  dir.unlock();
  console.reset();
  // Still our unreaped child here, so its pidfd can be had even if it has already exited.
  pidfd_socket.send(process.pid, "setns");
  write_pid_file(req.pid_file, process.pid);
  process.guard.release();
  if (req.detach) {
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return 0;
  }
  if (process.terminal)
    return wait_relaying_terminal(process.pid, process.terminal.get(), set, "the exec'd process");
  return wait_forwarding_signals(process.pid, set, "the exec'd process");
}

}  // namespace urun::container
