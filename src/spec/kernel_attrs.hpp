#pragma once
// The runtime-spec 1.3 objects that are handed to one system call each: process.scheduler
// (sched_setattr), process.ioPriority (ioprio_set), process.execCPUAffinity
// (sched_setaffinity), linux.personality (personality) and linux.memoryPolicy
// (set_mempolicy). The parser (parse.cpp) calls the readers below, which check the names and
// the combinations the kernel would refuse and resolve them to the numbers the syscalls take,
// so a bad value fails while the config is read: before anything is created, for the init and
// for `exec --process` alike. The linux module (linux/sched_attrs.hpp) only applies them.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "spec/spec.hpp"

namespace urun::spec {

// A CPU or memory-node list in the kernel's syntax ("0-3,7"; a trailing comma is accepted, as
// by crun) as a bitmask, bit i of word i/64 for id i. Empty text gives an empty mask. Throws
// Error("cannot parse ...") for anything else or an id above max_id.
std::vector<uint64_t> parse_id_list(std::string_view text, uint32_t max_id);

// The highest CPU and memory-node number a list may name (crun's limits).
inline constexpr uint32_t kMaxCpuId = 1u << 20;
inline constexpr uint32_t kMaxNodeId = 4095;

// Readers: `path` names the object in errors ("process.scheduler"). Each throws Error(EINVAL)
// naming the member at fault.
Scheduler read_scheduler(const nlohmann::json& j, const std::string& path);
IoPriority read_io_priority(const nlohmann::json& j, const std::string& path);
ExecCpuAffinity read_exec_cpu_affinity(const nlohmann::json& j, const std::string& path);
Personality read_personality(const nlohmann::json& j, const std::string& path);
MemoryPolicy read_memory_policy(const nlohmann::json& j, const std::string& path);

// The names the readers accept, in the spec's order: for `features` (linux.memoryPolicy's
// modes and flags), generated from the tables the parser uses.
std::vector<std::string> memory_policy_mode_names();
std::vector<std::string> memory_policy_flag_names();
std::vector<std::string> scheduler_policy_names();
std::vector<std::string> scheduler_flag_names();
std::vector<std::string> io_priority_class_names();

nlohmann::json to_json(const Scheduler& s);
nlohmann::json to_json(const IoPriority& p);
nlohmann::json to_json(const ExecCpuAffinity& a);
nlohmann::json to_json(const Personality& p);
nlohmann::json to_json(const MemoryPolicy& m);

}  // namespace urun::spec
