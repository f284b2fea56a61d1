#include "userns/map_writer.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"

extern char** environ;

namespace urun::userns {
namespace {

// Standard places of newuidmap, searched after $PATH: a user's PATH often lacks the sbin dirs.
constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct Side {
  bool uids;  // false: gids
  const char* map_file() const { return uids ? "uid_map" : "gid_map"; }
  const char* helper() const { return uids ? "newuidmap" : "newgidmap"; }
  const char* subid_file() const { return uids ? "/etc/subuid" : "/etc/subgid"; }
};

UniqueFd open_pid_dir(pid_t pid, std::string_view proc_dir) {
  std::string path = std::string(proc_dir) + "/" + std::to_string(pid);
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw_errno("open " + quote(path));
  return fd;
}

// The kernel parses a map from exactly one write(2): the whole text must go at once.
void write_file_at(int dir_fd, const char* name, const std::string& text, pid_t pid,
                   std::string_view proc_dir) {
  std::string path = std::string(proc_dir) + "/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(::openat(dir_fd, name, O_WRONLY | O_CLOEXEC));
  if (!fd) throw_errno("open " + quote(path));
  ssize_t n;
  do {
    n = ::write(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("write " + quote(path));
  if (static_cast<size_t>(n) != text.size()) {
    throw Error("write " + quote(path) + ": short write", EIO);
  }
}

// A helper started with its stdout and stderr going to a pipe, so that a failure can be
// reported with the helper's own explanation. Reaped by collect(), else by the destructor.
struct Spawned {
  pid_t pid = -1;
  UniqueFd out;
  std::string program;
  std::string error;  // set when it could not be started
  Spawned() = default;
  Spawned(Spawned&& o) noexcept
      : pid(std::exchange(o.pid, -1)),
        out(std::move(o.out)),
        program(std::move(o.program)),
        error(std::move(o.error)) {}
  Spawned& operator=(Spawned&&) = delete;
  ~Spawned() {
    out.reset();
    while (pid > 0 && ::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
};

// What the child of spawn_capture needs, prepared before the clone: it shares our memory and
// calls nothing but raw system calls.
struct ChildPlan {
  const char* path;
  char** argv;
  char** envp;
  int out;        // the pipe's write end: the helper's stdout and stderr
  uint64_t mask;  // the signal mask to restore before the exec (kernel layout)
  int err = 0;    // set by the child when it could not exec
};

[[noreturn]] void child_failed(ChildPlan* plan) {
  plan->err = errno;  // the parent's errno too, but the parent sleeps until we exit (vfork)
  ::syscall(SYS_exit, 127);
  __builtin_unreachable();
}

int exec_helper_child(void* arg) {
  auto* plan = static_cast<ChildPlan*>(arg);
  for (int target : {1, 2}) {
    // dup3 clears O_CLOEXEC on the target; a pipe end that already is the target keeps it.
    const long r = plan->out == target ? ::syscall(SYS_fcntl, target, F_SETFD, 0)
                                       : ::syscall(SYS_dup3, plan->out, target, 0);
    if (r < 0) child_failed(plan);
  }
  const long null = ::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY, 0);
  if (null < 0) child_failed(plan);
  if (null != 0) {
    if (::syscall(SYS_dup3, null, 0, 0) < 0) child_failed(plan);
    ::syscall(SYS_close, null);
  }
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &plan->mask, nullptr, sizeof plan->mask);
  ::syscall(SYS_execve, plan->path, plan->argv, plan->envp);
  child_failed(plan);
}

// Starts `program` as posix_spawn would, with stdin /dev/null and stdout and stderr a pipe, but
// without its reset of every signal's disposition in the child (two sigaction calls for each of
// 64 signals, before the exec, while we wait for it): urun installs no signal handlers that a
// child sharing our memory could run, and every signal is blocked until the exec anyway.
Spawned spawn_capture(const std::string& program, const std::vector<std::string>& args) {
  Spawned s;
  s.program = program;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe2");
  UniqueFd read_end(fds[0]), write_end(fds[1]);

  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ChildPlan plan{program.c_str(), argv.data(), environ, write_end.get(), 0};
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  std::memcpy(&plan.mask, &old, sizeof plan.mask);
  // The child runs on this frame's array while we sleep (CLONE_VFORK: until it execs or exits).
  alignas(64) char stack[32 * 1024];
  const pid_t pid =
      ::clone(exec_helper_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  const int clone_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    s.error = "cannot execute " + program + ": " + std::strerror(clone_err);
    return s;
  }
  if (plan.err != 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    s.error = "cannot execute " + program + ": " + std::strerror(plan.err);
    return s;
  }
  s.pid = pid;
  s.out = std::move(read_end);
  return s;
}

// Waits for a spawned helper: its exit status (or -1 when it did not run or was killed), with
// its output in `output`.
int collect(Spawned& s, std::string& output) {
  if (s.pid <= 0) {
    output = s.error;
    return -1;
  }
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(s.out.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < 16384) output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(s.pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid " + s.program);
  }
  s.pid = -1;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  output += (output.empty() ? "" : "; ") + std::string("killed by signal ") +
            std::to_string(WTERMSIG(status));
  return -1;
}

// newuidmap or newgidmap, started (the two run at the same time: see PendingIdMaps).
struct HelperRun {
  bool missing = false;
  Spawned spawned;
};

HelperRun start_helper(Side side, pid_t pid, const std::vector<Mapping>& maps,
                       const WriteOptions& options) {
  std::string program = find_program(side.helper(), options.path);
  if (program.empty()) return HelperRun{true, Spawned()};
  std::vector<std::string> args{side.helper(), std::to_string(pid)};
  for (const Mapping& m : maps) {
    args.push_back(std::to_string(m.container_id));
    args.push_back(std::to_string(m.host_id));
    args.push_back(std::to_string(m.size));
  }
  return HelperRun{false, spawn_capture(program, args)};
}

// Waits for a started helper. Returns "" on success, else the reason for the warning/error.
std::string finish_helper(Side side, HelperRun& run, bool& missing) {
  missing = run.missing;
  if (missing) {
    return std::string(side.helper()) +
           " not found: install the uidmap package "
           "(shadow-utils on Fedora)";
  }
  std::string output;
  int rc = collect(run.spawned, output);
  if (rc == 0) return {};
  if (output.empty()) output = "exit status " + std::to_string(rc);
  return std::string(side.helper()) + " failed: " + output + "; check " + side.subid_file();
}

bool needs_helper(const std::vector<Mapping>& maps, uint32_t caller, bool privileged) {
  return !maps.empty() && !privileged && !is_single_own_id(maps, caller);
}

// helper: the side's newuidmap or newgidmap, which PendingIdMaps started exactly when the map
// needs one (needs_helper); without it the map is written directly.
MapMethod write_side(Side side, pid_t pid, int dir_fd, const std::vector<Mapping>& maps,
                     uint32_t caller, bool privileged, const WriteOptions& options,
                     MapResult& result, std::optional<HelperRun>& helper) {
  if (maps.empty()) return MapMethod::none;
  const std::string_view proc = options.proc_dir;
  if (!helper) {
    // Without CAP_SETGID the kernel accepts a gid map only once setgroups is denied, so that an
    // unprivileged user cannot drop a group used to deny it access.
    if (!side.uids && !privileged) {
      write_setgroups(pid, false, proc);
      result.setgroups_denied = true;
    }
    write_file_at(dir_fd, side.map_file(), format_id_map(maps), pid, proc);
    return MapMethod::direct;
  }
  bool missing = false;
  std::string failure = finish_helper(side, *helper, missing);
  if (failure.empty()) return MapMethod::newidmap;
  if (!options.allow_single_fallback) {
    throw Error(
        "write " + std::string(side.map_file()) + " of pid " + std::to_string(pid) + ": " + failure,
        missing ? ENOENT : EPERM)
        .set_hint(Hint::rootless_setup);
  }
  log::debug("id maps: " + failure + "; falling back to a single mapping");
  if (!side.uids) {
    write_setgroups(pid, false, proc);
    result.setgroups_denied = true;
  }
  write_file_at(dir_fd, side.map_file(), format_id_map({{0, caller, 1}}), pid, proc);
  if (!result.warning.empty()) result.warning += "; ";
  result.warning += failure;
  return MapMethod::single_fallback;
}

}  // namespace

std::string_view to_string(MapMethod method) {
  switch (method) {
    case MapMethod::none:
      return "none";
    case MapMethod::direct:
      return "direct";
    case MapMethod::newidmap:
      return "newuidmap/newgidmap";
    case MapMethod::single_fallback:
      return "single mapping fallback";
  }
  return "unknown";
}

std::string MapResult::describe() const {
  auto name = [](MapMethod m, const char* helper) {
    return m == MapMethod::newidmap ? std::string(helper) : std::string(to_string(m));
  };
  std::string text =
      "uid map: " + name(uid_method, "newuidmap") + ", gid map: " + name(gid_method, "newgidmap");
  if (setgroups_denied) text += ", setgroups denied";
  return text;
}

// What PendingIdMaps holds between its start and finish().
struct PendingIdMaps::State {
  pid_t pid;
  std::vector<Mapping> uids, gids;
  WriteOptions options;
  uint32_t caller_uid, caller_gid;
  bool priv_uid, priv_gid;
  UniqueFd dir;
  std::optional<HelperRun> uid_helper, gid_helper;
};

PendingIdMaps::PendingIdMaps(pid_t pid, std::vector<Mapping> uids, std::vector<Mapping> gids,
                             WriteOptions options)
    : s_(std::make_unique<State>()) {
  State& s = *s_;
  s.pid = pid;
  s.uids = std::move(uids);
  s.gids = std::move(gids);
  s.options = std::move(options);
  s.caller_uid = s.options.caller_uid.value_or(::geteuid());
  s.caller_gid = s.options.caller_gid.value_or(::getegid());
  s.priv_uid = s.options.privileged.value_or(has_effective_capability(CAP_SETUID));
  s.priv_gid = s.options.privileged.value_or(has_effective_capability(CAP_SETGID));
  // One directory fd for every write: the files all belong to the same process even if the pid
  // were recycled in between (the fd pins the original task's /proc entry).
  s.dir = open_pid_dir(pid, s.options.proc_dir);
  // The helpers start now; newgidmap runs while newuidmap does, the two maps being independent
  // (each helper writes its own file; newgidmap sees to setgroups).
  if (needs_helper(s.gids, s.caller_gid, s.priv_gid))
    s.gid_helper.emplace(start_helper({false}, pid, s.gids, s.options));
  if (needs_helper(s.uids, s.caller_uid, s.priv_uid))
    s.uid_helper.emplace(start_helper({true}, pid, s.uids, s.options));
}

PendingIdMaps::~PendingIdMaps() = default;
PendingIdMaps::PendingIdMaps(PendingIdMaps&&) noexcept = default;
PendingIdMaps& PendingIdMaps::operator=(PendingIdMaps&&) noexcept = default;

MapResult PendingIdMaps::finish() {
  if (!s_) throw Error("write id maps: already written", EINVAL);
  const std::unique_ptr<State> done = std::move(s_);
  State& s = *done;
  MapResult result;
  result.uid_method = write_side({true}, s.pid, s.dir.get(), s.uids, s.caller_uid, s.priv_uid,
                                 s.options, result, s.uid_helper);
  result.gid_method = write_side({false}, s.pid, s.dir.get(), s.gids, s.caller_gid, s.priv_gid,
                                 s.options, result, s.gid_helper);
  log::debug("id maps of pid " + std::to_string(s.pid) + ": " + result.describe());
  return result;
}

MapResult write_id_maps(pid_t pid, const std::vector<Mapping>& uids,
                        const std::vector<Mapping>& gids, const WriteOptions& options) {
  return PendingIdMaps(pid, uids, gids, options).finish();
}

void write_setgroups(pid_t pid, bool allow, std::string_view proc_dir) {
  UniqueFd dir = open_pid_dir(pid, proc_dir);
  write_file_at(dir.get(), "setgroups", allow ? "allow" : "deny", pid, proc_dir);
}

bool has_effective_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) < 0) return false;
  const unsigned index = static_cast<unsigned>(cap) / 32;
  if (index >= _LINUX_CAPABILITY_U32S_3) return false;
  return (data[index].effective >> (cap % 32)) & 1u;
}

std::string find_program(std::string_view name, const std::optional<std::string>& path) {
  std::string dirs;
  if (path) {
    dirs = *path;
  } else {
    // The caller's PATH decides, as for any program it runs (a PATH without the
    // helpers is how a user opts out of them); only an unset PATH (Podman runs
    // some commands with an empty environment) falls back to the default.
    const char* env = std::getenv("PATH");
    dirs = env ? std::string(env) : std::string(kDefaultPath);
  }
  std::string_view rest = dirs;
  while (true) {
    size_t colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    // Empty PATH entries mean "." to a shell; a runtime must not run helpers from its cwd.
    if (!dir.empty() && dir.front() == '/') {
      std::string candidate = std::string(dir) + "/" + std::string(name);
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return {};
}

}  // namespace urun::userns
