#include "cgroups/cgroupfs/rt_budget.hpp"

#include <dirent.h>

#include <algorithm>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "common/error.hpp"

namespace urun::cgroups {
namespace {

constexpr int kShareShift = 20;  // kernel/sched: BW_SHIFT
constexpr uint64_t kWholeCpu = uint64_t{1} << kShareShift;

constexpr const char* kPeriod = "cpu.rt_period_us";
constexpr const char* kRuntime = "cpu.rt_runtime_us";

uint64_t read_u64(const std::string& file) { return std::stoull(detail::read_knob(file)); }
int64_t read_i64(const std::string& file) { return std::stoll(detail::read_knob(file)); }

uint64_t share_of(const std::string& dir) {
  return rt_share(read_u64(dir + "/" + kPeriod), read_i64(dir + "/" + kRuntime));
}

// The sum of the shares of dir's sub-cgroups, but for the one named `skip`.
uint64_t children_share(const std::string& dir, const std::string& skip) {
  uint64_t sum = 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw_errno("open " + quote(dir));
  for (dirent* e; (e = ::readdir(d));) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name == skip) continue;
    const std::string sub = dir + "/" + name;
    if (!detail::exists(sub + "/" + kRuntime)) continue;  // a knob file, not a cgroup
    sum += share_of(sub);
  }
  ::closedir(d);
  return sum;
}

// The runtime per period_us that gives share, rounded up (the least that covers it).
uint64_t runtime_for(uint64_t share, uint64_t period_us) {
  return (share * period_us + kWholeCpu - 1) >> kShareShift;
}

std::string describe(uint64_t runtime_us, uint64_t period_us) {
  return std::to_string(runtime_us) + " us per " + std::to_string(period_us) + " us";
}

}  // namespace

uint64_t rt_share(uint64_t period_us, int64_t runtime_us) {
  if (runtime_us < 0) return kWholeCpu;
  if (period_us == 0) return 0;
  return (static_cast<uint64_t>(runtime_us) << kShareShift) / period_us;
}

std::vector<std::pair<std::string, int64_t>> plan_rt_room(const std::vector<RtLevel>& levels,
                                                          uint64_t share) {
  if (levels.empty()) return {};
  // Bottom-up: what each level must hold for its children (the one on the way with what
  // it must hold) to fit; the root's own share is fixed.
  std::vector<uint64_t> need(levels.size());
  uint64_t below = share;
  for (size_t i = levels.size(); i-- > 0;) {
    need[i] = levels[i].others_share + below;
    below = std::max(need[i], rt_share(levels[i].period_us, levels[i].runtime_us));
  }
  const RtLevel& root = levels.front();
  const uint64_t root_share = rt_share(root.period_us, root.runtime_us);
  if (need[0] > root_share) {
    const uint64_t left = root_share - std::min(root.others_share, root_share);
    throw Error(
        "cgroup " + quote(root.dir) + " has " +
            describe((left * root.period_us + kWholeCpu / 2) >> kShareShift, root.period_us) +
            " of realtime runtime left, the container needs " +
            describe(runtime_for(need[0] - root.others_share, root.period_us), root.period_us),
        EINVAL);
  }
  std::vector<std::pair<std::string, int64_t>> writes;
  for (size_t i = 1; i < levels.size(); ++i) {
    const RtLevel& l = levels[i];
    if (l.runtime_us < 0 || need[i] <= rt_share(l.period_us, l.runtime_us)) continue;
    // The least runtime whose share (rounded down, as the kernel does) covers the need.
    writes.emplace_back(l.dir, static_cast<int64_t>(runtime_for(need[i], l.period_us)));
  }
  return writes;
}

void make_rt_room(const std::string& hierarchy_dir, const std::string& path, uint64_t period_us,
                  int64_t runtime_us, std::vector<std::pair<std::string, int64_t>>& raised) {
  if (runtime_us <= 0) return;
  // The components of the path: the container's cgroup last.
  std::vector<std::string> names;
  for (size_t pos = 1; pos <= path.size();) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (next > pos) names.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  // Without CONFIG_RT_GROUP_SCHED there are no such files: the write of the container's own
  // value says so.
  if (names.empty() || !detail::exists(hierarchy_dir + "/" + kRuntime)) return;
  std::vector<RtLevel> levels;
  std::string dir = hierarchy_dir;
  for (const auto& name : names) {
    RtLevel l;
    l.dir = dir;
    l.period_us = read_u64(dir + "/" + kPeriod);
    l.runtime_us = read_i64(dir + "/" + kRuntime);
    l.others_share = children_share(dir, name);
    levels.push_back(std::move(l));
    dir += "/" + name;
  }
  for (const auto& [cgroup, runtime] : plan_rt_room(levels, rt_share(period_us, runtime_us))) {
    const auto level = std::find_if(levels.begin(), levels.end(),
                                    [&cgroup](const RtLevel& l) { return l.dir == cgroup; });
    try {
      detail::write_knob(cgroup + "/" + kRuntime, std::to_string(runtime));
    } catch (Error& e) {
      e.prepend("make room for the container's realtime runtime");
      throw;
    }
    raised.emplace_back(cgroup, level->runtime_us);
  }
}

}  // namespace urun::cgroups
