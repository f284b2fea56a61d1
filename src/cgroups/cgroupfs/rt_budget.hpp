#pragma once
// cgroup v1 realtime budget (cpu.rt_runtime_us per cpu.rt_period_us, CONFIG_RT_GROUP_SCHED).
// The kernel refuses (EINVAL) a runtime that would make a cgroup's children together hold a
// larger share of the cpu than the cgroup itself, and a new cgroup starts with a runtime of 0:
// a container's linux.resources.cpu.realtimeRuntime under a parent made for it (urun's own
// /urun included) could never be set. Before that write, the ancestors that lack the room are
// raised (never lowered), outermost first, by just what the container needs, as runc's test
// suite does by hand and crun's systemd manager does for the direct parent. The hierarchy's
// root is never written: its budget is the system's (kernel.sched_rt_runtime_us).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace urun::cgroups {

// The kernel's fixed-point share of the cpu a runtime per period gives (to_ratio in
// kernel/sched, 20 fractional bits); a runtime of -1 (no limit) is the whole cpu.
uint64_t rt_share(uint64_t period_us, int64_t runtime_us);

// One cgroup on the way from the hierarchy's root to the container.
struct RtLevel {
  std::string dir;
  uint64_t period_us = 0;
  int64_t runtime_us = 0;
  // The shares of its children other than the one on the way to the container.
  uint64_t others_share = 0;
};

// levels: the root first, the container's parent last; share: what the container's cgroup
// will hold. Returns the writes {dir, runtime} that make room, outermost first (none when
// there is room). Throws Error (EINVAL) when the root itself has too little left.
std::vector<std::pair<std::string, int64_t>> plan_rt_room(const std::vector<RtLevel>& levels,
                                                          uint64_t share);

// Reads the levels of hierarchy_dir + path (path: the container's cgroup, "/a/b/ct") and
// writes plan_rt_room's runtimes. Appends each change to `raised` as {dir, runtime before}
// as it is made (outermost first), so that a failed create can put them back; throws Error
// naming the cgroup that could not be raised.
void make_rt_room(const std::string& hierarchy_dir, const std::string& path, uint64_t period_us,
                  int64_t runtime_us, std::vector<std::pair<std::string, int64_t>>& raised);

}  // namespace urun::cgroups
