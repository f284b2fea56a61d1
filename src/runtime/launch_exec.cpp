#include "runtime/launch_exec.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "linux/namespaces.hpp"
#include "linux/process_attrs.hpp"
#include "linux/sched_attrs.hpp"
#include "runtime/child_plumbing.hpp"
#include "runtime/console.hpp"
#include "runtime/process_setup.hpp"
#include "runtime/sync_channel.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace urun::runtime {
namespace {

// What the forked children apply, all prepared before fork.
struct ChildPlan {
  const spec::Process* process = nullptr;
  // User namespace first: joining the others needs the capabilities it grants
  // (a rootless caller has none in the host's namespaces).
  std::vector<std::pair<int, UniqueFd>> join;
  bool joins_user = false;
  // User namespaces nested in the container's own (the init's intermediate
  // one), outermost first: joined after the others, which belong to the
  // outer namespace and could no longer be joined from inside.
  std::vector<UniqueFd> inner_users;
  UniqueFd root;  // the init's root directory
  // ExecPlan::cgroup_join_files, copied above the preserved range: (fd, path for messages).
  std::vector<std::pair<UniqueFd, std::string>> cgroup_join;
  int preserve_fds = 0;
  UniqueFd console;  // process.terminal: the connected console socket, if any
  std::vector<int> placeholder_fds;
  bool keep_groups = false;
  const linux::SeccompProgram* seccomp = nullptr;
  const linux::LsmLabels* lsm = nullptr;
  const spec::Personality* personality = nullptr;
  const spec::MemoryPolicy* memory_policy = nullptr;
  // An unprivileged parent could not set the scheduler and I/O priority of a process that
  // switched to another user: the process sets its own before it does.
  bool sched_in_child = false;
  const SyncChannel* channel = nullptr;  // the child's end
};

// Same namespace as ours: joining it would be a no-op at best, and setns() of
// our own user namespace fails with EINVAL.
bool same_namespace(int fd, const char* name) {
  struct stat theirs {
  }, ours{};
  std::string own = std::string("/proc/self/ns/") + name;
  if (::fstat(fd, &theirs) < 0 || ::stat(own.c_str(), &ours) < 0) return false;
  return theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev;
}

bool same_inode(int a, int b) {
  struct stat sa {
  }, sb{};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
         sa.st_dev == sb.st_dev;
}

// The user namespaces from just below ours down to `innermost` (the init's),
// outermost first. More than one when the init made an intermediate user
// namespace: the container's other namespaces belong to the outermost.
std::vector<UniqueFd> user_namespace_chain(UniqueFd innermost) {
  UniqueFd own(::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
  if (!own) throw_errno("open /proc/self/ns/user");
  std::vector<UniqueFd> chain;
  chain.push_back(std::move(innermost));
  for (;;) {
    UniqueFd parent(::ioctl(chain.back().get(), NS_GET_PARENT));
    // EPERM: the parent is outside our scope, i.e. we reached the top.
    if (!parent) {
      if (errno == EPERM) break;
      throw_errno("find the parent of the container's user namespace");
    }
    if (same_inode(parent.get(), own.get())) break;
    chain.push_back(std::move(parent));
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

void open_namespaces(pid_t init, ChildPlan& plan) {
  static constexpr int kOrder[] = {CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS,  CLONE_NEWNET,
                                   CLONE_NEWPID,  CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS};
  const std::string base = "/proc/" + std::to_string(init) + "/ns/";
  for (int flag : kOrder) {
    const char* name = linux::namespace_proc_name(flag);
    std::string path = base + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      // A kernel without time (or cgroup) namespaces has no such file.
      if (errno == ENOENT) continue;
      throw_errno("open " + quote(path));
    }
    if (same_namespace(fd.get(), name)) continue;
    if (flag == CLONE_NEWUSER) {
      plan.joins_user = true;
      std::vector<UniqueFd> chain = user_namespace_chain(std::move(fd));
      fd = std::move(chain.front());
      for (size_t i = 1; i < chain.size(); ++i) plan.inner_users.push_back(std::move(chain[i]));
    }
    plan.join.emplace_back(flag, std::move(fd));
  }
}

// The grandchild, first thing: it moves itself into the container's cgroup v1 hierarchies (one
// thread, so without the kernel's cgroup-wide lock and its RCU grace period; checked against
// the credentials of the parent, which opened the files). After the fork, so the intermediate
// never counts against the container's pids limit nor waits in its frozen v1 freezer (where
// even SIGKILL waits for the thaw; a frozen process is caught by the parent's SetupWaiter).
// execCPUAffinity.initial, which a cpuset join resets, covered the namespace joins; the final
// one is set after kStart. The files are closed at once, never reaching the process.
void join_cgroups_itself(ChildPlan& plan) {
  for (auto& [fd, path] : plan.cgroup_join) {
    join_cgroup_itself({fd.get(), path});
    fd.reset();
  }
  plan.cgroup_join.clear();
}

// The grandchild: in all the container's namespaces and its root.
[[noreturn]] void run_process(ChildPlan& plan) {
  const spec::Process& proc = *plan.process;
  const SyncChannel& channel = *plan.channel;
  start_new_session();
  // In the container's root and still its root user: its /etc/passwd.
  std::vector<std::string> env = proc.env;
  add_home_env(env, proc.user.uid);
  linux::apply_rlimits(proc.rlimits);
  // Every fd it was not given to keep is closed by now (exec_child).
  enter_cwd(proc.cwd);
  // In the container's mount namespace and root: its /dev/ptmx, its devpts.
  if (proc.terminal)
    attach_terminal(proc, plan.console.release(), channel, false);
  else
    hand_stdio_to(proc.user);
  for (int fd : plan.placeholder_fds) ::close(fd);
  mark_fds_cloexec(plan.preserve_fds);
  clear_cloexec_on_preserved(plan.preserve_fds);
  // Opened while privileged and before seccomp; written just before execve.
  linux::LsmExecAttr lsm_attr(*plan.lsm);
  lsm_attr.open();
  // Before seccomp, which may filter them, and before the switch to the process user.
  if (plan.memory_policy) linux::set_memory_policy(*plan.memory_policy);
  if (plan.personality) linux::set_personality(*plan.personality);
  if (plan.sched_in_child && proc.scheduler) linux::set_scheduler(0, *proc.scheduler);
  if (plan.sched_in_child && proc.io_priority) linux::set_io_priority(0, *proc.io_priority);
  // Seccomp timing: see load_seccomp() in linux/seccomp/seccomp.hpp.
  const linux::SeccompProgram* seccomp = plan.seccomp;
  if (seccomp && !proc.no_new_privileges) apply_seccomp(*seccomp, channel);
  apply_process_user(proc, plan.keep_groups);
  if (seccomp && seccomp->notify && proc.no_new_privileges) apply_seccomp(*seccomp, channel);
  channel.send(Msg::kReady);
  channel.expect(Msg::kStart);
  // Resolved as the process user, after kStart: from here on a failure is the
  // command's (exit status 126/127), not the runtime's.
  std::string program = find_executable(proc.args[0], proc.env);
  if (proc.user.umask) ::umask(*proc.user.umask);
  // In its cgroup by now (kStart), whose cpuset join reset the affinity.
  if (proc.exec_cpu_affinity)
    linux::set_cpu_affinity(0, proc.exec_cpu_affinity->final_mask, proc.exec_cpu_affinity->final,
                            "final");
  lsm_attr.write();
  if (seccomp && !seccomp->notify && proc.no_new_privileges) linux::load_seccomp(*seccomp);
  exec_process(program, proc.args, env);
}

void enter_container(ChildPlan& plan) {
  for (auto& [flag, fd] : plan.join) {
    if (::setns(fd.get(), flag) < 0)
      throw_errno(std::string("join ") + linux::namespace_proc_name(flag) + " namespace");
    fd.reset();
    // Root of the container's user namespace: the capabilities to join the
    // namespaces it owns, and to own the intermediate one below.
    if (flag == CLONE_NEWUSER) become_namespace_root();
  }
  // The intermediate user namespace maps the process user to our root: we
  // are that user there, with every capability until apply_process_user.
  for (auto& fd : plan.inner_users) {
    if (::setns(fd.get(), CLONE_NEWUSER) < 0)
      throw_errno("join the container's intermediate user namespace");
    fd.reset();
  }
  // setns() of a mount namespace leaves us at its root mount, not in the
  // init's pivoted root: enter the init's root through the fd opened before.
  if (::fchdir(plan.root.get()) < 0) throw_errno("enter the container's root");
  if (::chroot(".") < 0) throw_errno("chroot to the container's root");
  plan.root.reset();
}

// What the children need of the parent's fds; everything else above the
// preserved range goes before they enter the container.
std::vector<int> fds_to_keep(const ChildPlan& plan) {
  std::vector<int> keep{plan.channel->fd(), plan.root.get(), plan.console.get()};
  for (const auto& joined : plan.join) keep.push_back(joined.second.get());
  for (const auto& fd : plan.inner_users) keep.push_back(fd.get());
  for (const auto& joined : plan.cgroup_join) keep.push_back(joined.first.get());
  return keep;
}

[[noreturn]] void exec_child(ChildPlan& plan) noexcept {
  // As for the init (runtime/init.cpp, protect_urun_binary): entering a
  // container whose root is the host's root, stay non-dumpable until exec so
  // no container process can reach the urun binary through /proc/<pid>/exe.
  if (!plan.joins_user) ::prctl(PR_SET_DUMPABLE, 0);
  // First of all, while still outside: a directory fd the caller leaked to us
  // would be the process's way out through /proc/self/fd/N (CVE-2024-21626),
  // and a copy of the parent's end of the sync socket would keep the process
  // from seeing EOF when the parent dies.
  close_fds_from(3 + plan.preserve_fds, fds_to_keep(plan));
  run_child_guarded(*plan.channel, "exec process", [&plan] {
    // Where the runtime's work in the container runs (runtime-spec's execCPUAffinity.initial);
    // the process inherits it.
    if (const auto& affinity = plan.process->exec_cpu_affinity)
      linux::set_cpu_affinity(0, affinity->initial_mask, affinity->initial, "initial");
    enter_container(plan);
    // A joined pid namespace applies to children only (a time namespace too).
    fork_and_report_pid_in_child(*plan.channel, "the exec process");
    join_cgroups_itself(plan);
    run_process(plan);
  });
}

// How long the parent waits for a frame before it asks whether the process is
// frozen, and how long it may stay frozen before the set-up is given up.
constexpr std::chrono::milliseconds kWaitSlice{100};
constexpr std::chrono::milliseconds kFrozenGrace{1000};

// "SIGTERM" for SIGTERM (glibc's abbreviation table).
std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : std::string("a signal");
}

// Bounds every wait of the parent on the sync socket (SyncChannel::set_waiter).
// EOF already ends a wait when the children are gone: nobody else holds their
// end (exec_child closes what it does not need). On top of that, one of the
// caller's abort signals ends it, and so does a process that stays frozen (its
// cgroup paused behind our back): frozen, it would never answer.
class SetupWaiter {
 public:
  SetupWaiter(const std::vector<int>& abort_signals, ExecSteps& steps, int min_fd) : steps_(steps) {
    if (abort_signals.empty()) return;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : abort_signals) sigaddset(&set, sig);
    signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_) throw_errno("create a signalfd for the set-up of the process");
    move_above(signals_, min_fd);
  }

  void wait(int fd) const {
    bool frozen = false;  // at the last look
    std::chrono::steady_clock::time_point frozen_since{};
    for (;;) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {signals_.get(), POLLIN, 0}};
      int ready = ::poll(fds, signals_ ? 2 : 1, static_cast<int>(kWaitSlice.count()));
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw_errno("wait on the sync socket");
      }
      // A frame (or EOF) first: a signal that comes as the process execs is
      // left pending, for the foreground wait to forward to it.
      if (fds[0].revents) return;
      signalfd_siginfo info{};
      if (signals_ && (fds[1].revents & POLLIN) &&
          ::read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        // Exits as the process would have, killed by the signal: 128 + signal.
        int sig = static_cast<int>(info.ssi_signo);
        throw ExecFailure(
            std::string("interrupted by ") + signal_name(sig) + " before the process started",
            EINTR, 128 + sig);
      }
      if (ready > 0 || !steps_.watches_frozen()) continue;
      if (!steps_.process_frozen()) {
        frozen = false;
        continue;
      }
      auto now = std::chrono::steady_clock::now();
      if (!frozen) frozen_since = now;
      frozen = true;
      if (now - frozen_since >= kFrozenGrace)
        throw Error(
            "the process was frozen before it could exec (the container or its cgroup "
            "was paused)",
            EBUSY);
    }
  }

 private:
  UniqueFd signals_;
  ExecSteps& steps_;
};

// The exec'd process until it has exec'd: killed on any failure, and reaped
// without waiting for ever, since in a frozen cgroup v1 even SIGKILL waits for
// the thaw (the process is then left to whoever inherits it, and dies there).
class ProcessGuard {
 public:
  ProcessGuard() = default;
  ProcessGuard(const ProcessGuard&) = delete;
  ProcessGuard& operator=(const ProcessGuard&) = delete;
  ~ProcessGuard() {
    if (pid_ <= 0) return;
    int saved = errno;
    ::kill(pid_, SIGKILL);
    for (int i = 0; i < 1000; ++i) {
      pid_t r = ::waitpid(pid_, nullptr, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) break;
      ::usleep(1000);
    }
    errno = saved;
  }
  void reset(pid_t pid) { pid_ = pid; }
  pid_t release() { return std::exchange(pid_, -1); }

 private:
  pid_t pid_ = -1;
};

bool setgroups_denied(pid_t init) {
  try {
    return fs::read_file("/proc/" + std::to_string(init) + "/setgroups").starts_with("deny");
  } catch (const Error&) {
    return false;  // no user namespace support: setgroups is allowed
  }
}

// After kStart: EOF means the exec succeeded (the channel is close-on-exec);
// an error frame is the command's failure.
void wait_exec(const SyncChannel& channel) {
  for (;;) {
    std::optional<Frame> next = channel.receive_unless_closed();
    if (!next) return;
    Frame& f = *next;
    if (f.type == Msg::kLog) {
      write_log_frame(f);
      continue;
    }
    if (f.type == Msg::kError) {
      int status = f.err == EACCES || f.err == EPERM || f.err == ENOEXEC ? 126 : 127;
      throw ExecFailure(std::move(f.payload), f.err, status);
    }
    throw Error("unexpected message on sync socket after start", EPROTO);
  }
}

}  // namespace

ExecedProcess launch_exec(const ExecPlan& req, ExecSteps& steps) {
  const spec::Process& proc = *req.process;
  if (proc.args.empty()) throw Error("process.args: must not be empty", EINVAL);

  ChildPlan plan;
  plan.process = &proc;
  plan.preserve_fds = req.preserve_fds;
  plan.seccomp = req.seccomp;
  plan.lsm = &req.lsm;
  plan.personality = req.personality;
  plan.memory_policy = req.memory_policy;
  plan.sched_in_child = req.caller_unprivileged;
  plan.placeholder_fds = req.placeholder_fds;
  open_namespaces(req.init_pid, plan);
  std::string root_path = "/proc/" + std::to_string(req.init_pid) + "/root";
  plan.root.reset(::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!plan.root) throw_errno("open the container's root " + quote(root_path));
  // A user namespace whose maps were written without newuidmap denies
  // setgroups(2): the process keeps its groups then, as the init does.
  bool denied = plan.joins_user && setgroups_denied(req.init_pid);
  plan.keep_groups = req.keep_original_groups || (denied && proc.user.additional_gids.empty());

  const int min_fd = 3 + req.preserve_fds;
  // Made before fork: the children close it with the other fds they do not need.
  SetupWaiter waiter(req.abort_signals, steps, min_fd);
  SyncChannel parent_end, child_end;
  SyncChannel::make_pair(parent_end, child_end);
  move_above(parent_end.owned_fd(), min_fd);
  move_above(child_end.owned_fd(), min_fd);
  move_above(plan.root, min_fd);
  const bool terminal = proc.terminal;
  plan.console = copy_console_socket(terminal, req.console_socket, min_fd);
  for (auto& joined : plan.join) move_above(joined.second, min_fd);
  for (auto& fd : plan.inner_users) move_above(fd, min_fd);
  for (const CgroupJoinFile& f : req.cgroup_join_files) {
    UniqueFd copy(::fcntl(f.fd, F_DUPFD_CLOEXEC, min_fd));
    if (!copy) throw_errno("copy the file descriptor of " + quote(f.path));
    plan.cgroup_join.emplace_back(std::move(copy), f.path);
  }
  plan.channel = &child_end;

  // The intermediate child exits as soon as it forked: its child, the
  // process, must then become ours, so that we can wait for it.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) throw_errno("become a child subreaper");
  bool cloned_into_cgroup = false;
  pid_t child = fork_into_cgroup(req.cgroup_fd, cloned_into_cgroup, "the exec child");
  if (child < 0) throw_errno("fork the exec child");
  if (child == 0) exec_child(plan);

  ChildGuard intermediate(child);
  child_end.close();
  plan.join.clear();
  plan.inner_users.clear();
  plan.root.reset();
  plan.console.reset();
  plan.cgroup_join.clear();
  parent_end.set_waiter([&waiter](int fd) { waiter.wait(fd); });

  ProcessGuard process;
  // The intermediate is in no container cgroup but, with req.cgroup_fd, the cgroup2 one.
  const pid_t pid = receive_forked_pid_from_child(parent_end, child);
  process.reset(pid);
  intermediate.release();

  ExecedProcess out;
  out.pid = pid;
  out.terminal = receive_handoffs_from_child(parent_end, terminal && req.console_socket < 0,
                                             req.seccomp, pid, req.state_json, nullptr);
  parent_end.expect(Msg::kReady);
  steps.join_cgroup(out.pid, cloned_into_cgroup);
  // Right after the cgroup join, whose realtime budget a realtime policy needs (crun's order).
  if (!plan.sched_in_child && proc.scheduler) linux::set_scheduler(out.pid, *proc.scheduler);
  if (!plan.sched_in_child && proc.io_priority) linux::set_io_priority(out.pid, *proc.io_priority);
  parent_end.send(Msg::kStart);
  wait_exec(parent_end);
  out.guard.reset(process.release());
  return out;
}

}  // namespace urun::runtime
