#include "linux/sched_attrs.hpp"

#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace urun::linux {
namespace {

// struct sched_attr of the kernel's uapi, first version (SCHED_ATTR_SIZE_VER0, 48 bytes): the
// util-clamp fields of later versions are refused by the parser.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

constexpr uint32_t kSchedFifo = 1, kSchedRr = 2, kSchedDeadline = 6;
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassShift = 13;
constexpr int kIoprioClassRt = 1;

// A sysctl the kernel bounds SCHED_DEADLINE periods with, or "?" when unreadable (only read to
// explain an error).
std::string read_sysctl(const char* name) {
  try {
    std::string v = fs::read_file(std::string("/proc/sys/kernel/") + name);
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    return v;
  } catch (const Error&) {
    return "?";
  }
}

// What the kernel's bare errno means for this scheduler, as a suffix of the error.
std::string scheduler_hint(const spec::Scheduler& s, int err) {
  const bool realtime = s.policy_value == kSchedFifo || s.policy_value == kSchedRr;
  if (err == EPERM && realtime)
    return " (" + s.policy +
           " needs CAP_SYS_NICE on the host or a large enough RLIMIT_RTPRIO, and where the "
           "kernel has realtime group scheduling a realtime budget in the container's cgroup: "
           "linux.resources.cpu.realtimeRuntime)";
  if (err == EPERM && s.policy_value == kSchedDeadline)
    return " (SCHED_DEADLINE needs CAP_SYS_NICE on the host and an affinity of every CPU)";
  if (err == EPERM && s.nice.value_or(0) < 0)
    return " (a negative nice needs CAP_SYS_NICE on the host or a large enough RLIMIT_NICE)";
  if (err == EINVAL && s.policy_value == kSchedDeadline)
    return " (the period, or the deadline when there is none, must lie between " +
           read_sysctl("sched_deadline_period_min_us") + " and " +
           read_sysctl("sched_deadline_period_max_us") +
           " microseconds: kernel.sched_deadline_period_min_us and _max_us)";
  if (err == EBUSY && s.policy_value == kSchedDeadline)
    return " (the kernel's deadline admission control has no bandwidth left for it)";
  return "";
}

std::string memory_policy_hint(const spec::MemoryPolicy& m, int err) {
  if (err == EINVAL && !m.nodes.empty()) {
    std::string allowed = "?";
    try {
      std::string status = fs::read_file("/proc/self/status");
      const std::string key = "Mems_allowed_list:";
      size_t at = status.find(key);
      if (at != std::string::npos) {
        size_t start = status.find_first_not_of(" \t", at + key.size());
        allowed = status.substr(start, status.find('\n', start) - start);
      }
    } catch (const Error&) {
    }
    return " (nodes " + quote(m.nodes) +
           " must be online and allowed to the process: " + quote(allowed) +
           "; the kernel may also lack " + m.mode + " or a flag)";
  }
  if (err == ENOSYS) return " (the kernel was built without NUMA support)";
  return "";
}

}  // namespace

void set_scheduler(pid_t pid, const spec::Scheduler& s) {
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = s.policy_value;
  attr.sched_flags = s.flags_value;
  attr.sched_nice = s.nice.value_or(0);
  attr.sched_priority = static_cast<uint32_t>(s.priority.value_or(0));
  attr.sched_runtime = s.runtime.value_or(0);
  attr.sched_deadline = s.deadline.value_or(0);
  attr.sched_period = s.period.value_or(0);
  if (::syscall(SYS_sched_setattr, pid, &attr, 0) != 0) {
    const int err = errno;
    throw Error(
        "set scheduler " + quote(s.policy) + ": " + std::strerror(err) + scheduler_hint(s, err),
        err);
  }
}

void set_io_priority(pid_t pid, const spec::IoPriority& p) {
  const int value = (p.class_value << kIoprioClassShift) | p.priority;
  if (::syscall(SYS_ioprio_set, kIoprioWhoProcess, pid, value) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EPERM && p.class_value == kIoprioClassRt)
      hint = " (IOPRIO_CLASS_RT needs CAP_SYS_ADMIN or CAP_SYS_NICE on the host)";
    throw Error("set I/O priority " + quote(p.io_class + " " + std::to_string(p.priority)) + ": " +
                    std::strerror(err) + hint,
                err);
  }
}

void set_cpu_affinity(pid_t pid, const std::vector<uint64_t>& mask, const std::string& text,
                      const char* which) {
  if (mask.empty()) return;
  const size_t cpus = mask.size() * 64;
  cpu_set_t* set = CPU_ALLOC(cpus);
  if (set == nullptr) throw Error("allocate a CPU set", ENOMEM);
  const size_t bytes = CPU_ALLOC_SIZE(cpus);
  CPU_ZERO_S(bytes, set);
  for (size_t cpu = 0; cpu < cpus; ++cpu)
    if (mask[cpu / 64] & (1ull << (cpu % 64))) CPU_SET_S(cpu, bytes, set);
  const int rc = ::sched_setaffinity(pid, bytes, set);
  const int err = errno;
  CPU_FREE(set);
  if (rc != 0)
    throw Error(std::string("set ") + which + " CPU affinity " + quote(text) + ": " +
                    std::strerror(err) +
                    (err == EINVAL ? " (none of these CPUs is online and allowed)" : ""),
                err);
}

void set_personality(const spec::Personality& p) {
  // personality() returns the previous persona, -1 on error.
  if (::personality(p.value) == -1) throw_errno("set personality " + quote(p.domain));
}

void set_memory_policy(const spec::MemoryPolicy& m) {
  // The kernel reads maxnode - 1 bits (an off-by-one kept for compatibility), so one more
  // than the mask holds; no mask at all for the modes that take no nodes.
  const auto* nodes =
      m.node_mask.empty() ? nullptr : reinterpret_cast<const unsigned long*>(m.node_mask.data());
  const unsigned long maxnode = m.node_mask.empty() ? 0 : m.node_mask.size() * 64 + 1;
  static_assert(sizeof(unsigned long) == sizeof(uint64_t));
  if (::syscall(SYS_set_mempolicy, m.mode_value, nodes, maxnode) != 0) {
    const int err = errno;
    std::string what = m.mode;
    for (const auto& f : m.flags) what += "|" + f;
    throw Error("set memory policy " + quote(what) +
                    (m.nodes.empty() ? "" : " on nodes " + quote(m.nodes)) + ": " +
                    std::strerror(err) + memory_policy_hint(m, err),
                err);
  }
}

}  // namespace urun::linux
