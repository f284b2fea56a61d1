// Readers for the runtime-spec 1.3 objects applied by one syscall each (spec/kernel_attrs.hpp).
// The name tables follow runtime-spec 1.3 and the values the kernel's uapi headers define;
// they are spelled out here because older libc and kernel headers lack the newest ones
// (SCHED_FLAG_UTIL_*, MPOL_WEIGHTED_INTERLEAVE, the ioprio classes).
#include "spec/kernel_attrs.hpp"

#include <array>
#include <cerrno>
#include <limits>
#include <string>
#include <utility>

#include "common/error.hpp"

namespace urun::spec {
namespace {

using nlohmann::json;

template <size_t N>
using NameTable = std::array<std::pair<std::string_view, uint64_t>, N>;

constexpr NameTable<6> kPolicies{{{"SCHED_OTHER", 0},
                                  {"SCHED_FIFO", 1},
                                  {"SCHED_RR", 2},
                                  {"SCHED_BATCH", 3},
                                  {"SCHED_IDLE", 5},
                                  {"SCHED_DEADLINE", 6}}};
constexpr uint64_t kSchedFifo = 1, kSchedRr = 2, kSchedDeadline = 6;

constexpr NameTable<7> kSchedFlags{{{"SCHED_FLAG_RESET_ON_FORK", 0x01},
                                    {"SCHED_FLAG_RECLAIM", 0x02},
                                    {"SCHED_FLAG_DL_OVERRUN", 0x04},
                                    {"SCHED_FLAG_KEEP_POLICY", 0x08},
                                    {"SCHED_FLAG_KEEP_PARAMS", 0x10},
                                    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
                                    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}}};
constexpr uint64_t kKeepPolicy = 0x08, kKeepParams = 0x10, kUtilClamp = 0x20 | 0x40;

constexpr NameTable<3> kIoClasses{
    {{"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}}};

constexpr NameTable<7> kMpolModes{{{"MPOL_DEFAULT", 0},
                                   {"MPOL_PREFERRED", 1},
                                   {"MPOL_BIND", 2},
                                   {"MPOL_INTERLEAVE", 3},
                                   {"MPOL_LOCAL", 4},
                                   {"MPOL_PREFERRED_MANY", 5},
                                   {"MPOL_WEIGHTED_INTERLEAVE", 6}}};
constexpr NameTable<3> kMpolFlags{{{"MPOL_F_NUMA_BALANCING", 1u << 13},
                                   {"MPOL_F_RELATIVE_NODES", 1u << 14},
                                   {"MPOL_F_STATIC_NODES", 1u << 15}}};
constexpr uint64_t kNumaBalancing = 1u << 13, kRelativeNodes = 1u << 14, kStaticNodes = 1u << 15;

// sched(7): every SCHED_DEADLINE parameter is at least 1024 ns and below 2^63.
constexpr uint64_t kDeadlineMin = 1024;
constexpr uint64_t kDeadlineLimit = 1ull << 63;

[[noreturn]] void fail(const std::string& path, std::string_view reason) {
  throw Error(path + ": " + std::string(reason), EINVAL);
}

template <size_t N>
std::string names_of(const NameTable<N>& table) {
  std::string out;
  for (const auto& [name, value] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

template <size_t N>
uint64_t lookup(const NameTable<N>& table, const std::string& name, const std::string& path,
                std::string_view what) {
  for (const auto& [n, value] : table)
    if (n == name) return value;
  fail(path, "unknown " + std::string(what) + " " + quote(name) + " (want one of " +
                 names_of(table) + ")");
}

const json* member(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

void expect_object(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "must be an object");
}

std::string get_string(const json& j, const std::string& path, const char* key, bool required) {
  const json* v = member(j, key);
  if (v == nullptr) {
    if (required) fail(path + "." + key, "is required");
    return "";
  }
  if (!v->is_string()) fail(path + "." + key, "must be a string");
  return v->get<std::string>();
}

std::vector<std::string> get_strings(const json& j, const std::string& path, const char* key) {
  std::vector<std::string> out;
  const json* v = member(j, key);
  if (v == nullptr) return out;
  if (!v->is_array()) fail(path + "." + key, "must be an array of strings");
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string())
      fail(path + "." + key + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

std::optional<int32_t> get_i32(const json& j, const std::string& path, const char* key) {
  const json* v = member(j, key);
  if (v == nullptr) return std::nullopt;
  bool ok =
      v->is_number_integer() &&
      (v->is_number_unsigned() ? v->get<uint64_t>() <= INT32_MAX
                               : v->get<int64_t>() >= INT32_MIN && v->get<int64_t>() <= INT32_MAX);
  if (!ok) fail(path + "." + key, "must be a 32-bit integer");
  return static_cast<int32_t>(v->get<int64_t>());
}

std::optional<uint64_t> get_u64(const json& j, const std::string& path, const char* key) {
  const json* v = member(j, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0)
    return static_cast<uint64_t>(v->get<int64_t>());
  fail(path + "." + key, "must be an unsigned 64-bit integer");
}

std::string num(uint64_t v) { return std::to_string(v); }

// runtime <= deadline <= period, each within sched(7)'s bounds; period 0 means the deadline.
void check_deadline(const Scheduler& s, const std::string& path) {
  if (!s.runtime || *s.runtime == 0)
    fail(path + ".runtime", "SCHED_DEADLINE needs a runtime greater than 0");
  if (!s.deadline || *s.deadline == 0)
    fail(path + ".deadline", "SCHED_DEADLINE needs a deadline greater than 0");
  const uint64_t period = s.period.value_or(0);
  for (auto [name, value] : {std::pair{"runtime", *s.runtime}, std::pair{"deadline", *s.deadline},
                             std::pair{"period", period}}) {
    if (value == 0) continue;  // only the period may be 0
    if (value < kDeadlineMin || value >= kDeadlineLimit)
      fail(path + "." + name, "SCHED_DEADLINE " + std::string(name) + " " + num(value) +
                                  " must be at least 1024 and below 2^63 (nanoseconds)");
  }
  if (*s.runtime > *s.deadline)
    fail(path, "SCHED_DEADLINE runtime " + num(*s.runtime) + " must not exceed deadline " +
                   num(*s.deadline));
  if (period != 0 && *s.deadline > period)
    fail(path,
         "SCHED_DEADLINE deadline " + num(*s.deadline) + " must not exceed period " + num(period));
}

void check_priority(const Scheduler& s, const std::string& path) {
  const int32_t priority = s.priority.value_or(0);
  if (s.policy_value == kSchedFifo || s.policy_value == kSchedRr) {
    // sched_get_priority_min/max of both realtime policies.
    if (priority < 1 || priority > 99)
      fail(path + ".priority",
           s.policy + " needs a priority between 1 and 99, got " + std::to_string(priority));
  } else if (priority != 0) {
    fail(path + ".priority", s.policy +
                                 " takes no priority (only SCHED_FIFO and SCHED_RR do), got " +
                                 std::to_string(priority));
  }
  if (s.policy_value != kSchedDeadline) {
    for (auto [name, value] : {std::pair{"runtime", s.runtime}, std::pair{"deadline", s.deadline},
                               std::pair{"period", s.period}})
      if (value.value_or(0) != 0)
        fail(path + "." + name, "only SCHED_DEADLINE takes a " + std::string(name));
  }
}

template <size_t N>
std::vector<std::string> name_list(const NameTable<N>& table) {
  std::vector<std::string> out;
  for (const auto& entry : table) out.emplace_back(entry.first);
  return out;
}

}  // namespace

std::vector<std::string> memory_policy_mode_names() { return name_list(kMpolModes); }
std::vector<std::string> memory_policy_flag_names() { return name_list(kMpolFlags); }
std::vector<std::string> scheduler_policy_names() { return name_list(kPolicies); }
std::vector<std::string> scheduler_flag_names() { return name_list(kSchedFlags); }
std::vector<std::string> io_priority_class_names() { return name_list(kIoClasses); }

std::vector<uint64_t> parse_id_list(std::string_view text, uint32_t max_id) {
  std::vector<uint64_t> mask;
  auto bad = [&]() -> std::vector<uint64_t> {
    throw Error("cannot parse list " + quote(text) + " (want ids and ranges such as `0-3,7`)",
                EINVAL);
  };
  auto number = [&](size_t& pos) -> uint64_t {
    if (pos >= text.size() || text[pos] < '0' || text[pos] > '9') bad();
    uint64_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      n = n * 10 + static_cast<uint64_t>(text[pos++] - '0');
      if (n > max_id)
        throw Error("list " + quote(text) + " names an id above " + num(max_id), EINVAL);
    }
    return n;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const uint64_t first = number(pos);
    uint64_t last = first;
    if (pos < text.size() && text[pos] == '-') {
      ++pos;
      last = number(pos);
      if (last < first) bad();
    }
    if (mask.size() <= last / 64) mask.resize(last / 64 + 1, 0);
    for (uint64_t id = first; id <= last; ++id) mask[id / 64] |= 1ull << (id % 64);
    if (pos < text.size()) {
      if (text[pos] != ',') bad();
      ++pos;
    }
  }
  return mask;
}

Scheduler read_scheduler(const json& j, const std::string& path) {
  expect_object(j, path);
  Scheduler s;
  s.policy = get_string(j, path, "policy", true);
  if (s.policy == "SCHED_ISO")
    fail(path + ".policy", "SCHED_ISO is not implemented by the Linux kernel");
  s.policy_value = static_cast<uint32_t>(lookup(kPolicies, s.policy, path + ".policy", "policy"));
  s.nice = get_i32(j, path, "nice");
  s.priority = get_i32(j, path, "priority");
  s.runtime = get_u64(j, path, "runtime");
  s.deadline = get_u64(j, path, "deadline");
  s.period = get_u64(j, path, "period");
  s.flags = get_strings(j, path, "flags");
  for (size_t i = 0; i < s.flags.size(); ++i)
    s.flags_value |= lookup(kSchedFlags, s.flags[i], path + ".flags[" + num(i) + "]", "flag");
  // The clamp flags make the kernel read sched_util_min/max, which runtime-spec has no field
  // for: sched_setattr would refuse them (EINVAL).
  if (s.flags_value & kUtilClamp)
    fail(path + ".flags",
         "SCHED_FLAG_UTIL_CLAMP_MIN/MAX need clamp values runtime-spec does not carry");
  if (s.nice && (*s.nice < -20 || *s.nice > 19))
    fail(path + ".nice", "must be between -20 and 19, got " + std::to_string(*s.nice));
  // With a KEEP flag the kernel keeps the current policy or parameters, whatever we name.
  if (!(s.flags_value & (kKeepPolicy | kKeepParams))) {
    if (s.policy_value == kSchedDeadline) check_deadline(s, path);
    check_priority(s, path);
  }
  return s;
}

IoPriority read_io_priority(const json& j, const std::string& path) {
  expect_object(j, path);
  IoPriority p;
  p.io_class = get_string(j, path, "class", true);
  p.class_value = static_cast<int>(lookup(kIoClasses, p.io_class, path + ".class", "class"));
  std::optional<int32_t> priority = get_i32(j, path, "priority");
  if (!priority) fail(path + ".priority", "is required");
  if (*priority < 0 || *priority > 7)
    fail(path + ".priority", "must be between 0 and 7, got " + std::to_string(*priority));
  p.priority = *priority;
  return p;
}

ExecCpuAffinity read_exec_cpu_affinity(const json& j, const std::string& path) {
  expect_object(j, path);
  ExecCpuAffinity a;
  auto read = [&](const char* key, std::string& text, std::vector<uint64_t>& mask) {
    text = get_string(j, path, key, false);
    try {
      mask = parse_id_list(text, kMaxCpuId);
    } catch (Error& e) {
      throw e.prepend(path + "." + key);
    }
  };
  read("initial", a.initial, a.initial_mask);
  read("final", a.final, a.final_mask);
  return a;
}

Personality read_personality(const json& j, const std::string& path) {
  expect_object(j, path);
  Personality p;
  p.domain = get_string(j, path, "domain", true);
  if (p.domain == "LINUX")
    p.value = 0x0000;  // PER_LINUX
  else if (p.domain == "LINUX32")
    p.value = 0x0008;  // PER_LINUX32
  else
    fail(path + ".domain", "unknown domain " + quote(p.domain) + " (want LINUX or LINUX32)");
  p.flags = get_strings(j, path, "flags");
  if (!p.flags.empty())
    fail(path + ".flags[0]",
         "unknown flag " + quote(p.flags[0]) + " (runtime-spec 1.3 defines no personality flag)");
  return p;
}

MemoryPolicy read_memory_policy(const json& j, const std::string& path) {
  expect_object(j, path);
  MemoryPolicy m;
  m.mode = get_string(j, path, "mode", true);
  const uint64_t mode = lookup(kMpolModes, m.mode, path + ".mode", "mode");
  m.nodes = get_string(j, path, "nodes", false);
  try {
    m.node_mask = parse_id_list(m.nodes, kMaxNodeId);
  } catch (Error& e) {
    throw e.prepend(path + ".nodes");
  }
  m.flags = get_strings(j, path, "flags");
  uint64_t flags = 0;
  for (size_t i = 0; i < m.flags.size(); ++i)
    flags |= lookup(kMpolFlags, m.flags[i], path + ".flags[" + num(i) + "]", "flag");
  m.mode_value = static_cast<int>(mode | flags);

  // What set_mempolicy(2) refuses with a bare EINVAL, said with the names.
  const bool has_nodes = !m.nodes.empty();
  if ((flags & kStaticNodes) && (flags & kRelativeNodes))
    fail(path + ".flags", "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
  if (m.mode == "MPOL_DEFAULT" || m.mode == "MPOL_LOCAL") {
    if (has_nodes) fail(path + ".nodes", m.mode + " takes no nodes");
    if (flags) fail(path + ".flags", m.mode + " takes no flags");
  } else if (m.mode == "MPOL_PREFERRED") {
    if (!has_nodes && (flags & (kStaticNodes | kRelativeNodes)))
      fail(path + ".flags", "MPOL_PREFERRED without nodes takes no MPOL_F_*_NODES flag");
  } else if (!has_nodes) {
    fail(path + ".nodes", m.mode + " needs at least one node");
  }
  if ((flags & kNumaBalancing) && m.mode != "MPOL_BIND" && m.mode != "MPOL_PREFERRED_MANY")
    fail(path + ".flags", "MPOL_F_NUMA_BALANCING works only with MPOL_BIND or MPOL_PREFERRED_MANY");
  return m;
}

json to_json(const Scheduler& s) {
  json out = {{"policy", s.policy}};
  if (s.nice) out["nice"] = *s.nice;
  if (s.priority) out["priority"] = *s.priority;
  if (!s.flags.empty()) out["flags"] = s.flags;
  if (s.runtime) out["runtime"] = *s.runtime;
  if (s.deadline) out["deadline"] = *s.deadline;
  if (s.period) out["period"] = *s.period;
  return out;
}

json to_json(const IoPriority& p) { return {{"class", p.io_class}, {"priority", p.priority}}; }

json to_json(const ExecCpuAffinity& a) {
  json out = json::object();
  if (!a.initial.empty()) out["initial"] = a.initial;
  if (!a.final.empty()) out["final"] = a.final;
  return out;
}

json to_json(const Personality& p) {
  json out = {{"domain", p.domain}};
  if (!p.flags.empty()) out["flags"] = p.flags;
  return out;
}

json to_json(const MemoryPolicy& m) {
  json out = {{"mode", m.mode}};
  if (!m.nodes.empty()) out["nodes"] = m.nodes;
  if (!m.flags.empty()) out["flags"] = m.flags;
  return out;
}

}  // namespace urun::spec
