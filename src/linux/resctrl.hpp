#pragma once
// The resctrl file system (Intel RDT) for linux.intelRdt, as runc and crun use it: a container's
// tasks go into a control group (a directory of the resctrl mount: the closID's, or one named
// after the container), optionally with a monitoring group mon_groups/<container id> below
// it. The mount point is a parameter so that tests can use a plain directory.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "linux/intel_rdt.hpp"

namespace urun::linux {

inline constexpr const char* kResctrlMount = "/sys/fs/resctrl";

// /sys/fs/resctrl when a resctrl file system is mounted there, else the first resctrl mount of
// /proc/self/mountinfo (runc's order); nullopt when there is none.
std::optional<std::string> find_resctrl();

// What a container's intelRdt does, worked out before anything is made.
struct ResctrlPlan {
  std::string root;       // the resctrl mount point
  std::string group;      // the control group's directory (`root` itself for closID "/")
  std::string mon_group;  // group/mon_groups/<id>; "" without monitoring
  bool named = false;     // closID given: the group is shared and never removed by urun
  IntelRdt rdt;
};

// Checks what the config asks against what `root` offers: L3 schemas need info/L3* (CAT),
// memBwSchema info/MB (MBA), monitoring info/L3_MON; a closID without schemas names a group
// that must exist. Throws Error naming linux.intelRdt and what is missing.
ResctrlPlan plan_resctrl(const IntelRdt& rdt, const std::string& container_id,
                         const std::string& root);
// The same, finding the mount first: without one, the error runtime-spec asks for.
ResctrlPlan plan_resctrl(const IntelRdt& rdt, const std::string& container_id);

// Makes (or checks) the control group, writes its schemata, makes the monitoring group and
// writes `pid` into both. Returns the directories it made that the container's deletion
// removes (deepest first: the monitoring group, then a group named after the container). On
// failure removes what it made and throws Error (with the kernel's info/last_cmd_status).
std::vector<std::string> apply_resctrl(const ResctrlPlan& plan, pid_t pid);

// Moves `pid` (an exec'd process) into the container's groups.
void add_resctrl_task(const ResctrlPlan& plan, pid_t pid);

// `update --l3-cache-schema / --mem-bw-schema`: writes the given lines to the group's schemata.
void update_resctrl_schemata(const ResctrlPlan& plan, const std::optional<std::string>& l3,
                             const std::optional<std::string>& mb);

// rmdir of each directory (a resctrl group's tasks go back to its parent); one already gone is
// fine, other failures are logged.
void remove_resctrl_dirs(const std::vector<std::string>& dirs) noexcept;

}  // namespace urun::linux
