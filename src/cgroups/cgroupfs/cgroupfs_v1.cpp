#include "cgroups/cgroupfs/cgroupfs_v1.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iterator>
#include <optional>
#include <utility>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "cgroups/cgroupfs/rt_budget.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/scope_exit.hpp"

namespace urun::cgroups {
namespace {

using namespace std::chrono_literals;
using namespace detail;  // cgroupfs_util.hpp: exists, read_knob, write_knob

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// Named hierarchies (name=systemd) are mounted at a directory without the "name=".
std::vector<std::string> controllers_of(const std::string& dir_name) {
  std::vector<std::string> out;
  for (auto& c : split_commas(dir_name))
    out.push_back(c == "systemd" ? "name=systemd" : std::move(c));
  return out;
}

std::string join(const std::string& root, const std::string& name, const std::string& path) {
  return root + "/" + name + (path == "/" ? "" : path);
}

}  // namespace

std::vector<Hierarchy> list_hierarchies(const std::string& root) {
  std::vector<Hierarchy> out;
  DIR* d = ::opendir(root.c_str());
  if (d == nullptr) throw_errno("open cgroup root " + quote(root));
  // Looked up relative to the root (two path components, not five) and by the entry's type
  // where readdir gives it: this runs at every create, for every hierarchy.
  const int root_fd = ::dirfd(d);
  auto present = [root_fd](const std::string& rel) {
    return ::faccessat(root_fd, rel.c_str(), F_OK, 0) == 0;
  };
  for (dirent* e; (e = ::readdir(d));) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    // cpu and cpuacct are usually symlinks to cpu,cpuacct: count the hierarchy once.
    if (e->d_type != DT_DIR) {
      struct stat st {};
      if (e->d_type != DT_UNKNOWN ||
          ::fstatat(root_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
        continue;
    }
    if (!present(name + "/cgroup.procs")) continue;
    Hierarchy h;
    h.name = name;
    h.unified = present(name + "/cgroup.controllers");
    if (!h.unified) h.controllers = controllers_of(name);
    out.push_back(std::move(h));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const Hierarchy& a, const Hierarchy& b) { return a.name < b.name; });
  return out;
}

std::string proc_cgroup_key(const Hierarchy& h) {
  if (h.unified) return "";
  std::string key;
  for (const auto& c : h.controllers) key += (key.empty() ? "" : ",") + c;
  return key;
}

CgroupfsV1::CgroupfsV1(std::string root, std::map<std::string, std::string> paths)
    : root_(std::move(root)) {
  for (auto& [name, path] : paths) {
    std::string p = normalize_cgroup_path(path);
    // The container must never own a hierarchy's root: destroy() would try to remove it.
    if (p == "/") throw Error("cgroup path " + quote(path) + ": is the root cgroup", EINVAL);
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      throw Error("cgroup hierarchy " + quote(name) + ": not a directory name", EINVAL);
    paths_[name] = std::move(p);
  }
}

CgroupfsV1 CgroupfsV1::same_path(const std::string& root, const std::string& path) {
  std::map<std::string, std::string> paths;
  for (const auto& h : list_hierarchies(root)) paths[h.name] = path;
  return CgroupfsV1(root, std::move(paths));
}

std::string CgroupfsV1::path() const {
  for (const char* preferred : {"pids", "memory"}) {
    auto it = paths_.find(preferred);
    if (it != paths_.end()) return it->second;
  }
  return paths_.empty() ? "" : paths_.begin()->second;
}

std::string CgroupfsV1::dir_for(const std::string& controller) const {
  for (const auto& [name, path] : paths_) {
    if (name == controller) return join(root_, name, path);
    for (const auto& c : controllers_of(name))
      if (c == controller) return join(root_, name, path);
  }
  return "";
}

void CgroupfsV1::init_cpuset(const std::string& hierarchy_dir, const std::string& path) {
  // A new cpuset starts with empty cpus and mems, and the kernel refuses tasks (ENOSPC)
  // until both are set: copy them down from the parent at each level.
  std::string parent = hierarchy_dir;
  for (size_t pos = 1; pos <= path.size();) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    const std::string cur = hierarchy_dir + path.substr(0, next);
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      // Read where present (no existence check first: each is a lookup through cgroupfs).
      const std::optional<std::string> mine = read_knob_if_present(cur + "/" + file);
      if (!mine || !mine->empty()) continue;
      if (const auto from = read_knob_if_present(parent + "/" + file))
        write_knob(cur + "/" + file, *from);
    }
    parent = cur;
    pos = next + 1;
  }
}

void CgroupfsV1::create() {
  for (const auto& [name, path] : paths_) {
    const std::string hierarchy_dir = root_ + "/" + name;
    made_[name] = detail::make_cgroup_dirs(hierarchy_dir, path);
    const auto controllers = controllers_of(name);
    if (std::find(controllers.begin(), controllers.end(), "cpuset") != controllers.end())
      init_cpuset(hierarchy_dir, path);
  }
  // The init is cloned into the cgroup2 tree (CLONE_INTO_CGROUP takes the kernel's cgroup lock
  // only for reading; a pid written to its cgroup.procs waits for an RCU grace period).
  const std::string unified = dir_for("unified");
  if (!unified.empty()) {
    unified_fd_.reset(::open(unified.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!unified_fd_) throw_errno("open cgroup " + quote(unified));
  }
}

void CgroupfsV1::claim() {
  for (const auto& [name, path] : paths_) {
    const std::string dir = join(root_, name, path);
    // A directory create() made is empty; one it found may hold another container, in
    // this hierarchy only (paths may differ per hierarchy).
    const auto& made = made_[name];
    if (std::find(made.begin(), made.end(), dir) == made.end()) detail::refuse_processes(dir);
  }
  // The v1 freezer and, on a hybrid host, the cgroup2 tree's cgroup.freeze both stop
  // whatever joins the cgroup.
  for (const char* freezer : {"freezer", "unified"}) {
    const std::string dir = dir_for(freezer);
    if (!dir.empty()) detail::refuse_frozen(dir);
  }
  claimed_ = true;
}

void CgroupfsV1::undo_create() {
  if (claimed_ && !pids().empty()) kill_all(SIGKILL);
  std::optional<Error> first;
  for (const auto& [name, path] : paths_) {
    try {
      detail::remove_made_dirs(made_[name], {join(root_, name, path)});
    } catch (const Error& e) {
      if (!first) first = e;
    }
  }
  made_.clear();
  claimed_ = false;
  unified_fd_.reset();
  self_joined_.clear();
  // Innermost first: a parent goes back below its children's share only once they have. A
  // removed cgroup gives its share back only when the kernel releases it (after an RCU grace
  // period), so the first attempts may fail (EINVAL); this is the failure path, it may wait.
  for (auto it = rt_raised_.rbegin(); it != rt_raised_.rend(); ++it) {
    if (!exists(it->first)) continue;  // made by this create, and removed above
    const auto deadline = std::chrono::steady_clock::now() + 500ms;
    for (;;) {
      try {
        write_knob(it->first + "/cpu.rt_runtime_us", std::to_string(it->second));
        break;
      } catch (const Error& e) {
        if (e.code() == EINVAL && std::chrono::steady_clock::now() < deadline) {
          detail::sleep_ms(5);
          continue;
        }
        // Another container took the room meanwhile: it stays raised.
        log::debug(std::string("cgroup: leave the realtime runtime raised: ") + e.what());
        break;
      }
    }
  }
  rt_raised_.clear();
  if (first) throw *first;
}

void CgroupfsV1::add_process(pid_t pid) {
  for (const auto& [name, path] : paths_)
    write_knob(join(root_, name, path) + "/cgroup.procs", std::to_string(pid));
}

std::vector<SelfJoinFile> CgroupfsV1::open_self_join_files() {
  std::vector<SelfJoinFile> out;
  self_joined_.clear();
  // A manager rebuilt from the state record (exec) has not opened the cgroup2 tree's directory
  // as create() did: a new process is cloned into it too.
  const std::string unified = dir_for("unified");
  if (!unified_fd_ && !unified.empty()) {
    unified_fd_.reset(::open(unified.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!unified_fd_) throw_errno("open cgroup " + quote(unified));
  }
  for (const auto& [name, path] : paths_) {
    if (name == "unified") continue;  // cgroup2 has no `tasks`: dir_fd() serves it
    std::string file = join(root_, name, path) + "/tasks";
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
      // A delegation that chowned cgroup.procs only: the parent writes that one.
      log::debug("cgroup: open " + quote(file) + ": " + std::strerror(errno) +
                 ": the init is moved by its pid");
      continue;
    }
    self_joined_.insert(name);
    out.push_back({std::move(file), std::move(fd)});
  }
  return out;
}

void CgroupfsV1::add_process_after_clone(pid_t pid, bool in_dir_fd) {
  for (const auto& [name, path] : paths_) {
    if (self_joined_.count(name) != 0 || (in_dir_fd && name == "unified")) continue;
    write_knob(join(root_, name, path) + "/cgroup.procs", std::to_string(pid));
  }
}

void CgroupfsV1::apply(const Resources& resources) {
  const std::vector<Write> plan = plan_v1(resources);
  const std::string memory_dir = dir_for("memory");
  if (resources.memory && resources.memory->check_before_update.value_or(false) &&
      resources.memory->limit && *resources.memory->limit > 0 && !memory_dir.empty() &&
      exists(memory_dir + "/memory.usage_in_bytes")) {
    uint64_t usage = std::stoull(read_knob(memory_dir + "/memory.usage_in_bytes"));
    if (usage > static_cast<uint64_t>(*resources.memory->limit))
      throw Error("linux.resources.memory.limit: " + std::to_string(*resources.memory->limit) +
                      " is below the current usage " + std::to_string(usage),
                  EBUSY);
  }
  if (resources.cpu && resources.cpu->realtime_runtime && *resources.cpu->realtime_runtime > 0)
    make_realtime_room(*resources.cpu);
  detail::PlannedWriter writer;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Write& w = plan[i];
    const std::string dir = dir_for(w.controller);
    if (dir.empty()) {
      if (w.optional) continue;
      throw Error("write " + quote(w.file) + ": cgroup controller " + quote(w.controller) +
                      " is not mounted under " + quote(root_),
                  ENOENT);
    }
    try {
      writer.write(dir, w);
    } catch (const Error& e) {
      // The devices controller takes rules from CAP_SYS_ADMIN only, even in a cgroup
      // delegated to the user: rootless, the container's /dev (what the config lists, in a
      // user namespace where mknod is refused) is the limit, as with v2's BPF program.
      if (w.controller == "devices" && e.code() == EPERM && ::geteuid() != 0) {
        log::debug(std::string("cgroup devices: ") + e.what() + ": device rules not applied");
        while (i + 1 < plan.size() && plan[i + 1].controller == "devices") ++i;
        continue;
      }
      // memory <= memory+swap must hold after every write: when both grow, memsw has to
      // go first. The plan puts the limit first (right for a new cgroup and for shrinking).
      // Likewise the realtime runtime must fit in its period: the plan sets the period
      // first, which fails when an update shortens it below the current runtime.
      const char* const pairs[][2] = {{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"},
                                      {"cpu.rt_period_us", "cpu.rt_runtime_us"}};
      const bool swap = e.code() == EINVAL && i + 1 < plan.size() &&
                        std::any_of(std::begin(pairs), std::end(pairs), [&](const auto& p) {
                          return w.file == p[0] && plan[i + 1].file == p[1];
                        });
      if (!swap) throw;
      detail::write_planned(dir, plan[i + 1]);
      detail::write_planned(dir, w);
      ++i;
    }
  }
}

void CgroupfsV1::make_realtime_room(const CpuResources& cpu) {
  for (const auto& [name, path] : paths_) {
    const auto controllers = controllers_of(name);
    if (std::find(controllers.begin(), controllers.end(), "cpu") == controllers.end()) continue;
    const std::string hierarchy_dir = root_ + "/" + name;
    const std::string own_period = join(root_, name, path) + "/cpu.rt_period_us";
    uint64_t period = cpu.realtime_period.value_or(0);
    if (period == 0 && exists(own_period)) period = std::stoull(read_knob(own_period));
    if (period != 0) make_rt_room(hierarchy_dir, path, period, *cpu.realtime_runtime, rt_raised_);
    return;
  }
}

void CgroupfsV1::set_frozen(bool frozen) {
  const std::string freezer = dir_for("freezer");
  if (!freezer.empty() && exists(freezer + "/freezer.state")) {
    const std::string want = frozen ? "FROZEN" : "THAWED";
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      // The state goes through FREEZING; re-writing FROZEN retries tasks that were
      // busy in the kernel at the previous attempt.
      write_knob(freezer + "/freezer.state", want);
      if (read_knob(freezer + "/freezer.state") == want) return;
      if (std::chrono::steady_clock::now() > deadline) {
        if (frozen) write_knob(freezer + "/freezer.state", "THAWED");
        throw Error("freeze " + quote(freezer) + ": timed out", ETIMEDOUT);
      }
      detail::sleep_ms(5);
    }
  }
  const std::string unified = dir_for("unified");
  if (!unified.empty() && exists(unified + "/cgroup.freeze")) {
    write_knob(unified + "/cgroup.freeze", frozen ? "1" : "0");
    return;
  }
  throw Error(
      std::string(frozen ? "freeze" : "thaw") + ": no freezer hierarchy under " + quote(root_),
      ENOTSUP);
}

void CgroupfsV1::freeze() { set_frozen(true); }
void CgroupfsV1::thaw() { set_frozen(false); }

bool CgroupfsV1::is_frozen() {
  const std::string freezer = dir_for("freezer");
  if (!freezer.empty() && exists(freezer + "/freezer.state"))
    return read_knob(freezer + "/freezer.state") == "FROZEN";
  const std::string unified = dir_for("unified");
  return !unified.empty() && exists(unified + "/cgroup.freeze") &&
         read_knob(unified + "/cgroup.freeze") == "1";
}

std::vector<pid_t> CgroupfsV1::pids() {
  // A union: a process whose move failed half-way is still found in the other trees.
  std::vector<pid_t> out;
  for (const auto& [name, path] : paths_) detail::collect_procs(join(root_, name, path), out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void CgroupfsV1::kill_all(int sig) {
  const std::string unified = dir_for("unified");
  if (sig == SIGKILL && !unified.empty() && exists(unified + "/cgroup.kill"))
    write_knob(unified + "/cgroup.kill", "1");
  if (sig == SIGKILL && !dir_for("freezer").empty() &&
      exists(dir_for("freezer") + "/freezer.state")) {
    // Without cgroup.kill, a forking process could escape a kill loop; frozen it cannot
    // fork, and the SIGKILLs sent while frozen take effect at the thaw.
    bool frozen = false;
    try {
      freeze();
      frozen = true;
    } catch (const Error& e) {
      log::debug(std::string("cgroup: kill without freezing: ") + e.what());
    }
    for (pid_t pid : pids()) ::kill(pid, SIGKILL);
    if (frozen) thaw();
  }
  detail::signal_all([this] { return pids(); }, sig, 5s);
}

void CgroupfsV1::destroy() {
  // Most often (run's end, delete of a stopped container) every tree is empty: one rmdir
  // each removes it, where reading ten cgroup.procs and listing ten directories first costs
  // about a hundred syscalls. rmdir refuses a cgroup with tasks (EBUSY) or children
  // (ENOTEMPTY); those trees, and so every process left (each is in all of them, or in some
  // after a failed move: pids() is a union), get the full way below.
  std::map<std::string, std::string> left;
  for (const auto& [name, path] : paths_) {
    const std::string dir = join(root_, name, path);
    if (::rmdir(dir.c_str()) < 0 && errno != ENOENT) left.emplace(name, path);
  }
  if (left.empty()) return;
  const std::map<std::string, std::string> all = std::exchange(paths_, std::move(left));
  ScopeExit restore([&] { paths_ = all; });
  if (!pids().empty()) kill_all(SIGKILL);
  // Try every hierarchy even when one fails, so one busy tree leaves no other behind.
  std::optional<Error> first;
  for (const auto& [name, path] : paths_) {
    try {
      detail::remove_cgroup(join(root_, name, path));
    } catch (const Error& e) {
      if (!first) first = e;
    }
  }
  if (first) throw *first;
}

nlohmann::json CgroupfsV1::to_state() const {
  bool hybrid = false;
  for (const auto& [name, path] : paths_) hybrid |= name == "unified";
  return {{"manager", "cgroupfs"},
          {"layout", hybrid ? "hybrid" : "legacy"},
          {"root", root_},
          {"paths", paths_}};
}

}  // namespace urun::cgroups
