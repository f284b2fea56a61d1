// exec: a new process in an existing container. This side computes the
// process (the container's, with the command line's overrides), checks the
// container, and waits; runtime/launch_exec.cpp joins the namespaces and execs.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "cgroups/cgroupfs/cgroupfs_v1.hpp"
#include "cgroups/manager.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/pidfd.hpp"
#include "container/cgroup.hpp"
#include "container/commands.hpp"
#include "container/open_container.hpp"
#include "container/process_io.hpp"
#include "container/saved_config.hpp"
#include "container/status.hpp"
#include "linux/capabilities.hpp"
#include "linux/resctrl.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "linux/seccomp/seccomp_cache.hpp"
#include "linux/terminal.hpp"
#include "runtime/caller.hpp"
#include "runtime/launch_exec.hpp"
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

// The steps of launch_exec that are the container's: its cgroup (with a --cgroup sub-cgroup
// and the resctrl groups) and whether it is frozen.
class ExecInCgroup : public runtime::ExecSteps {
 public:
  ExecInCgroup(cgroups::Manager& cgroup, const std::vector<std::string>& sub_dirs,
               const std::optional<linux::ResctrlPlan>& resctrl, bool watch_frozen)
      : cgroup_(cgroup), sub_dirs_(sub_dirs), resctrl_(resctrl), watch_frozen_(watch_frozen) {}

  void join_cgroup(pid_t pid, bool cloned_into_cgroup) override {
    // Into the container's cgroup first: on v1 the hierarchies without the
    // sub-cgroup keep the process there, not in the caller's cgroups. Without a sub-cgroup,
    // only the hierarchies the process did not join itself (exec_cgroup_join).
    if (sub_dirs_.empty())
      cgroup_.add_process_after_clone(pid, cloned_into_cgroup);
    else
      cgroup_.add_process(pid);
    for (const auto& sub : sub_dirs_)
      fs::write_existing(sub + "/cgroup.procs", std::to_string(pid));
    // The exec'd process joins the container's resctrl groups as it joins its cgroup.
    if (resctrl_) linux::add_resctrl_task(*resctrl_, pid);
  }
  bool watches_frozen() const override { return watch_frozen_; }
  bool process_frozen() override {
    try {
      if (cgroup_.is_frozen()) return true;
      for (const auto& sub : sub_dirs_)
        if (sub_cgroup_frozen(sub)) return true;
    } catch (const Error&) {
      // A cgroup gone meanwhile is no frozen one.
    }
    return false;
  }

 private:
  cgroups::Manager& cgroup_;
  const std::vector<std::string>& sub_dirs_;
  const std::optional<linux::ResctrlPlan>& resctrl_;
  const bool watch_frozen_;
};

// What launch_exec applies in the container, all of it checked here.
runtime::ExecPlan make_exec_plan(const ExecRequest& req, const spec::Spec& spec,
                                 const spec::Process& proc, const state::Record& rec,
                                 const std::string& status, int console_socket,
                                 const std::vector<int>& placeholder_fds,
                                 const linux::SeccompProgram* seccomp) {
  runtime::ExecPlan plan;
  plan.init_pid = rec.pid;
  plan.process = &proc;
  plan.caller_unprivileged = runtime::Caller::is_unprivileged();
  plan.preserve_fds = req.preserve_fds;
  plan.console_socket = console_socket;
  plan.placeholder_fds = placeholder_fds;
  plan.keep_original_groups = spec.annotation("run.oci.keep_original_groups") != nullptr;
  plan.seccomp = seccomp;
  // The container's, for every process of it (as crun and runc apply them to exec).
  if (spec.linux && spec.linux->personality) plan.personality = &*spec.linux->personality;
  if (spec.linux && spec.linux->memory_policy) plan.memory_policy = &*spec.linux->memory_policy;
  // The host's /sys is read only when a label is asked for.
  if (proc.apparmor_profile || proc.selinux_label)
    plan.lsm = linux::lsm_labels(proc, linux::detect_lsm_host());
  if (seccomp && seccomp->notify) plan.state_json = oci_state_json(rec, status);
  // The signals that end a foreground exec end a starting one too.
  plan.abort_signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  return plan;
}

// The cgroup v1 `tasks` files the process writes "0" to, moving itself in without the kernel's
// cgroup-wide lock, and the cgroup2 directory it is cloned into (cgroups::Manager::
// open_self_join_files, dir_fd()). Not with a --cgroup sub-cgroup: the parent moves the process
// by its pid into the container's cgroup, then the sub-cgroup's, as before.
std::vector<cgroups::SelfJoinFile> exec_cgroup_join(cgroups::Manager& cgroup,
                                                    const std::vector<std::string>& sub_dirs,
                                                    runtime::ExecPlan& plan) {
  if (!sub_dirs.empty()) return {};
  std::vector<cgroups::SelfJoinFile> files = cgroup.open_self_join_files();
  plan.cgroup_fd = cgroup.dir_fd();
  for (const auto& f : files) plan.cgroup_join_files.push_back({f.fd.get(), f.path});
  return files;
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
  OpenedContainer opened =
      open_container(global, req.id, Lock::shared, IfNoRecord{"is not running", ESRCH});
  state::ContainerDir& dir = opened.dir;
  const state::Record& rec = opened.record;
  std::optional<spec::Spec> saved = read_saved_config(dir);
  if (!saved) throw Error("read the container's config.json: missing", ENOENT);
  spec::Spec spec = std::move(*saved);
  spec::Process proc = make_process(req, spec);
  const std::string& status = opened.status;
  // A created container's init is alive and its namespaces exist: crun execs there too.
  if (status == "paused" && !req.ignore_paused)
    throw Error("container " + quote(req.id) + " is paused", EBUSY);
  if (status != "running" && status != "created" && status != "paused")
    throw Error("container " + quote(req.id) + " is not running", ESRCH);
  std::unique_ptr<cgroups::Manager> cgroup = cgroup_of(rec);
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
  runtime::ExecPlan plan = make_exec_plan(req, spec, proc, rec, status, console.get(),
                                          reserved.fds(), seccomp ? &*seccomp : nullptr);
  std::vector<cgroups::SelfJoinFile> join_files = exec_cgroup_join(*cgroup, sub_dirs, plan);
  // `pause` waits for our lock; someone writing the freezer directly does not. With
  // --ignore-paused the process waits, frozen, for `resume` instead.
  ExecInCgroup steps(*cgroup, sub_dirs, resctrl, !req.ignore_paused);
  runtime::ExecedProcess process = runtime::launch_exec(plan, steps);
  join_files.clear();  // the process has joined: none stays open for the wait
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
