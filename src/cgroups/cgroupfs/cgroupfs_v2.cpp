#include "cgroups/cgroupfs/cgroupfs_v2.hpp"

#include <fcntl.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "cgroups/bpf/bpf_attach.hpp"
#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/words.hpp"

namespace urun::cgroups {
namespace {

using namespace std::chrono_literals;
using namespace detail;  // cgroupfs_util.hpp: exists, read_knob, write_knob

// Split by hand, not by a string stream: create runs this (common/words.hpp).
std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  for (std::string_view w : split_words(text)) out.emplace(w.front() == '+' ? w.substr(1) : w);
  return out;
}

// "frozen 1" in cgroup.events: the kernel sets it once every task is stopped, which
// can lag behind the write to cgroup.freeze.
std::optional<bool> events_frozen(const std::string& dir) {
  if (!exists(dir + "/cgroup.events")) return std::nullopt;
  const std::string text = fs::read_file(dir + "/cgroup.events");
  const auto w = split_words(text);
  for (size_t i = 0; i + 1 < w.size(); i += 2)
    if (w[i] == "frozen") return w[i + 1] == "1";
  return std::nullopt;
}

}  // namespace

void enable_controllers(const std::string& dir) {
  const std::string control = dir + "/cgroup.subtree_control";
  if (!exists(control) || !exists(dir + "/cgroup.controllers")) return;
  std::set<std::string> enabled = words(fs::read_file(control));
  std::vector<std::string> missing;
  for (const auto& c : words(fs::read_file(dir + "/cgroup.controllers")))
    if (!enabled.count(c)) missing.push_back(c);
  if (missing.empty()) return;
  std::string all;
  for (const auto& c : missing) all += (all.empty() ? "+" : " +") + c;
  try {
    write_knob(control, all);  // all or nothing in the kernel: one write when it works
    return;
  } catch (const Error&) {
  }
  for (const auto& c : missing) {
    try {
      write_knob(control, "+" + c);
    } catch (const Error& e) {
      log::debug(std::string("cgroup: cannot enable controller: ") + e.what());
    }
  }
}

CgroupfsV2::CgroupfsV2(std::string root, std::string path, std::string delegate,
                       bool delegate_later)
    : root_(std::move(root)),
      path_(normalize_cgroup_path(path)),
      delegate_(std::move(delegate)),
      delegate_later_(delegate_later && !delegate_.empty()) {
  // The container must never own the root cgroup: destroy() would try to remove it.
  if (path_ == "/") throw Error("cgroup path " + quote(path) + ": is the root cgroup", EINVAL);
  if (!delegate_.empty() &&
      (delegate_.find('/') != std::string::npos || delegate_ == "." || delegate_ == ".."))
    throw Error("run.oci.delegate-cgroup " + quote(delegate_) + ": must be a plain name", EINVAL);
}

void CgroupfsV2::create() {
  made_ = detail::make_cgroup_dirs(root_, path_);
  // Each ancestor must hand its controllers down, or the leaf has no memory.max & co.
  std::string cur = root_;
  enable_controllers(cur);
  for (size_t pos = 1; pos < path_.size();) {
    size_t next = path_.find('/', pos);
    if (next == std::string::npos) break;  // the leaf: it will hold processes, no delegation
    cur = root_ + path_.substr(0, next);
    enable_controllers(cur);
    pos = next + 1;
  }
  if (!delegate_.empty()) {
    // The container cgroup holds no process itself, so it may delegate its controllers.
    for (auto& d : detail::make_cgroup_dirs(root_, path_ + "/" + delegate_))
      made_.push_back(std::move(d));
    // Not while the init is to sit here first: a cgroup that hands controllers down
    // cannot hold processes (EBUSY). enter_delegate() does it.
    if (!delegate_later_) enable_controllers(dir());
  }
  const std::string target = join_dir();
  dir_fd_.reset(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) throw_errno("open cgroup " + quote(target));
}

void CgroupfsV2::claim() {
  // A cgroup create() made is empty; one it found may hold another container.
  if (std::find(made_.begin(), made_.end(), dir()) == made_.end()) detail::refuse_processes(dir());
  // cgroup.events of the cgroup the init is cloned into also says whether an ancestor
  // (the container's cgroup above a delegate, or further up) is frozen.
  detail::refuse_frozen(join_dir());
  if (join_dir() != dir()) detail::refuse_frozen(dir());
  claimed_ = true;
}

void CgroupfsV2::undo_create() {
  if (claimed_ && !pids().empty()) kill_all(SIGKILL);
  dir_fd_.reset();
  detail::remove_made_dirs(made_, {dir(), process_dir()});
  made_.clear();
  claimed_ = false;
}

void CgroupfsV2::add_process(pid_t pid) {
  write_knob(join_dir() + "/cgroup.procs", std::to_string(pid));
}

void CgroupfsV2::enter_delegate(pid_t pid) {
  if (!delegate_later_) return;
  write_knob(process_dir() + "/cgroup.procs", std::to_string(pid));
  delegate_later_ = false;
  enable_controllers(dir());
}

void CgroupfsV2::apply(const Resources& resources) {
  const std::string d = dir();
  if (resources.memory && resources.memory->check_before_update.value_or(false) &&
      resources.memory->limit && *resources.memory->limit > 0 && exists(d + "/memory.current")) {
    // runtime-spec: refuse a limit below the current usage instead of letting the
    // kernel reclaim or OOM-kill to reach it.
    uint64_t current = std::stoull(read_knob(d + "/memory.current"));
    if (current > static_cast<uint64_t>(*resources.memory->limit))
      throw Error("linux.resources.memory.limit: " + std::to_string(*resources.memory->limit) +
                      " is below the current usage " + std::to_string(current),
                  EBUSY);
  }
  for (const Write& w : plan_v2(resources)) detail::write_planned(d, w);
  // v2 has no devices.allow: the rules become a BPF program on the container's cgroup
  // (not the delegate below it, which inherits the program and may add stricter ones).
  set_device_rules(d, resources.devices);
}

void CgroupfsV2::set_frozen(bool frozen) {
  const std::string d = dir();
  if (!exists(d + "/cgroup.freeze"))
    throw Error(std::string(frozen ? "freeze" : "thaw") + " " + quote(d) +
                    ": cgroup.freeze not supported by this kernel (needs Linux 5.2)",
                ENOTSUP);
  write_knob(d + "/cgroup.freeze", frozen ? "1" : "0");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    auto state = events_frozen(d);
    if (!state || *state == frozen) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw Error(std::string(frozen ? "freeze" : "thaw") + " " + quote(d) + ": timed out",
                  ETIMEDOUT);
    detail::sleep_ms(5);
  }
}

void CgroupfsV2::freeze() { set_frozen(true); }
void CgroupfsV2::thaw() { set_frozen(false); }

bool CgroupfsV2::is_frozen() {
  const std::string d = dir();
  if (auto state = events_frozen(d)) return *state;
  return exists(d + "/cgroup.freeze") && read_knob(d + "/cgroup.freeze") == "1";
}

std::vector<pid_t> CgroupfsV2::pids() {
  std::vector<pid_t> out;
  detail::collect_procs(dir(), out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void CgroupfsV2::kill_all(int sig) {
  const std::string d = dir();
  // cgroup.kill (Linux 5.14) kills the whole subtree at once, racing no fork.
  if (sig == SIGKILL && exists(d + "/cgroup.kill")) write_knob(d + "/cgroup.kill", "1");
  detail::signal_all([this] { return pids(); }, sig, 5s);
}

void CgroupfsV2::destroy() {
  if (!exists(dir())) return;
  if (!pids().empty()) kill_all(SIGKILL);
  dir_fd_.reset();
  detail::remove_cgroup(dir());
}

nlohmann::json CgroupfsV2::to_state() const {
  nlohmann::json j = {
      {"manager", "cgroupfs"}, {"layout", "unified"}, {"root", root_}, {"path", path_}};
  if (!delegate_.empty()) j["delegate"] = delegate_;
  return j;
}

}  // namespace urun::cgroups
