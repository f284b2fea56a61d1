// process.scheduler, process.ioPriority, process.execCPUAffinity, linux.personality and
// linux.memoryPolicy as the parser reads them (spec/kernel_attrs.hpp): the names, the numbers
// the syscalls get, and the values and combinations refused before anything is created.
#include "spec/kernel_attrs.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "spec/spec.hpp"

namespace {

using nlohmann::json;
using urun::spec::parse_id_list;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), EINVAL) << e.what();
    return e.what();
  }
  return "<no error>";
}

std::string scheduler_error(const json& j) {
  return error_of([&] { urun::spec::read_scheduler(j, "process.scheduler"); });
}
std::string mempolicy_error(const json& j) {
  return error_of([&] { urun::spec::read_memory_policy(j, "linux.memoryPolicy"); });
}

TEST(IdList, ParsesIdsAndRanges) {
  EXPECT_EQ(parse_id_list("", 100), std::vector<uint64_t>{});
  EXPECT_EQ(parse_id_list("0", 100), std::vector<uint64_t>{1});
  EXPECT_EQ(parse_id_list("0-3,7", 100), std::vector<uint64_t>{0x8f});
  EXPECT_EQ(parse_id_list("7,0-3", 100), std::vector<uint64_t>{0x8f});
  EXPECT_EQ(parse_id_list("1,", 100), std::vector<uint64_t>{2}) << "crun takes a trailing comma";
  EXPECT_EQ(parse_id_list("64", 100), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(parse_id_list("63-64", 100), (std::vector<uint64_t>{1ull << 63, 1}));
  EXPECT_EQ(parse_id_list("2-2", 100), std::vector<uint64_t>{4});
}

TEST(IdList, RefusesAnythingElse) {
  for (const char* bad : {",", "a", "-1", "1-", "3-1", "1,,2", " 1", "1 ", "1-2-3", "0x1", "1;2"})
    EXPECT_EQ(error_of([&] { parse_id_list(bad, 100); }),
              std::string("cannot parse list `") + bad + "` (want ids and ranges such as `0-3,7`)")
        << bad;
  EXPECT_EQ(error_of([] { parse_id_list("0-101", 100); }), "list `0-101` names an id above 100");
  EXPECT_EQ(error_of([] { parse_id_list("99999999999999999999", 100); }),
            "list `99999999999999999999` names an id above 100");
}

TEST(Scheduler, ResolvesPolicyAndFlags) {
  auto s = urun::spec::read_scheduler(
      {{"policy", "SCHED_BATCH"}, {"nice", -5}, {"flags", {"SCHED_FLAG_RESET_ON_FORK"}}}, "p");
  EXPECT_EQ(s.policy_value, 3u);
  EXPECT_EQ(s.flags_value, 1u);
  EXPECT_EQ(s.nice, -5);
  EXPECT_EQ(urun::spec::read_scheduler({{"policy", "SCHED_OTHER"}}, "p").policy_value, 0u);
  EXPECT_EQ(urun::spec::read_scheduler({{"policy", "SCHED_IDLE"}}, "p").policy_value, 5u);
  auto rr = urun::spec::read_scheduler({{"policy", "SCHED_RR"}, {"priority", 99}}, "p");
  EXPECT_EQ(rr.policy_value, 2u);
  EXPECT_EQ(rr.priority, 99);
  auto dl = urun::spec::read_scheduler({{"policy", "SCHED_DEADLINE"},
                                        {"runtime", 10000000},
                                        {"deadline", 30000000},
                                        {"period", 30000000},
                                        {"flags", {"SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN"}}},
                                       "p");
  EXPECT_EQ(dl.policy_value, 6u);
  EXPECT_EQ(dl.flags_value, 6u);
  // The period may be left out: the kernel then takes the deadline.
  EXPECT_NO_THROW(urun::spec::read_scheduler(
      {{"policy", "SCHED_DEADLINE"}, {"runtime", 1024}, {"deadline", 1024}}, "p"));
}

TEST(Scheduler, RefusesUnknownNames) {
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_BOGUS"}}),
            "process.scheduler.policy: unknown policy `SCHED_BOGUS` (want one of SCHED_OTHER, "
            "SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE)");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_ISO"}}),
            "process.scheduler.policy: SCHED_ISO is not implemented by the Linux kernel");
  EXPECT_EQ(scheduler_error(json::object()), "process.scheduler.policy: is required");
  EXPECT_EQ(scheduler_error({{"policy", 1}}), "process.scheduler.policy: must be a string");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_OTHER"}, {"flags", {"SCHED_FLAG_FAST"}}}),
            "process.scheduler.flags[0]: unknown flag `SCHED_FLAG_FAST` (want one of "
            "SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN, "
            "SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_UTIL_CLAMP_MIN, "
            "SCHED_FLAG_UTIL_CLAMP_MAX)");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_OTHER"}, {"flags", {"SCHED_FLAG_UTIL_CLAMP_MIN"}}}),
            "process.scheduler.flags: SCHED_FLAG_UTIL_CLAMP_MIN/MAX need clamp values "
            "runtime-spec does not carry");
  EXPECT_EQ(scheduler_error("SCHED_OTHER"), "process.scheduler: must be an object");
}

TEST(Scheduler, RefusesValuesTheKernelWould) {
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_OTHER"}, {"nice", 20}}),
            "process.scheduler.nice: must be between -20 and 19, got 20");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_OTHER"}, {"nice", -21}}),
            "process.scheduler.nice: must be between -20 and 19, got -21");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_FIFO"}}),
            "process.scheduler.priority: SCHED_FIFO needs a priority between 1 and 99, got 0");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_RR"}, {"priority", 100}}),
            "process.scheduler.priority: SCHED_RR needs a priority between 1 and 99, got 100");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_OTHER"}, {"priority", 5}}),
            "process.scheduler.priority: SCHED_OTHER takes no priority (only SCHED_FIFO and "
            "SCHED_RR do), got 5");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_BATCH"}, {"runtime", 5000}}),
            "process.scheduler.runtime: only SCHED_DEADLINE takes a runtime");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_OTHER"}, {"nice", 1.5}}),
            "process.scheduler.nice: must be a 32-bit integer");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_DEADLINE"}, {"runtime", -1}}),
            "process.scheduler.runtime: must be an unsigned 64-bit integer");
  // With a KEEP flag the kernel keeps what it has: nothing to check against the policy.
  EXPECT_NO_THROW(urun::spec::read_scheduler(
      {{"policy", "SCHED_FIFO"}, {"flags", {"SCHED_FLAG_KEEP_PARAMS"}}}, "p"));
}

TEST(Scheduler, DeadlineNeedsOrderedParametersWithinTheKernelsBounds) {
  json dl = {{"policy", "SCHED_DEADLINE"}};
  EXPECT_EQ(scheduler_error(dl),
            "process.scheduler.runtime: SCHED_DEADLINE needs a runtime greater than 0");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_DEADLINE"}, {"runtime", 2000}}),
            "process.scheduler.deadline: SCHED_DEADLINE needs a deadline greater than 0");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_DEADLINE"}, {"runtime", 3000}, {"deadline", 2000}}),
            "process.scheduler: SCHED_DEADLINE runtime 3000 must not exceed deadline 2000");
  EXPECT_EQ(
      scheduler_error(
          {{"policy", "SCHED_DEADLINE"}, {"runtime", 2000}, {"deadline", 3000}, {"period", 2500}}),
      "process.scheduler: SCHED_DEADLINE deadline 3000 must not exceed period 2500");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_DEADLINE"}, {"runtime", 1000}, {"deadline", 3000}}),
            "process.scheduler.runtime: SCHED_DEADLINE runtime 1000 must be at least 1024 and "
            "below 2^63 (nanoseconds)");
  EXPECT_EQ(scheduler_error({{"policy", "SCHED_DEADLINE"},
                             {"runtime", 2000},
                             {"deadline", 3000},
                             {"period", 1ull << 63}}),
            "process.scheduler.period: SCHED_DEADLINE period 9223372036854775808 must be at "
            "least 1024 and below 2^63 (nanoseconds)");
}

TEST(IoPriority, ClassesAndPriorities) {
  auto p = urun::spec::read_io_priority({{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 7}}, "p");
  EXPECT_EQ(p.class_value, 3);
  EXPECT_EQ(p.priority, 7);
  EXPECT_EQ(urun::spec::read_io_priority({{"class", "IOPRIO_CLASS_RT"}, {"priority", 0}}, "p")
                .class_value,
            1);
  auto err = [](const json& j) {
    return error_of([&] { urun::spec::read_io_priority(j, "process.ioPriority"); });
  };
  EXPECT_EQ(err({{"class", "IOPRIO_CLASS_NONE"}, {"priority", 0}}),
            "process.ioPriority.class: unknown class `IOPRIO_CLASS_NONE` (want one of "
            "IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)");
  EXPECT_EQ(err({{"class", "IOPRIO_CLASS_BE"}, {"priority", 8}}),
            "process.ioPriority.priority: must be between 0 and 7, got 8");
  EXPECT_EQ(err({{"class", "IOPRIO_CLASS_BE"}, {"priority", -1}}),
            "process.ioPriority.priority: must be between 0 and 7, got -1");
  EXPECT_EQ(err({{"class", "IOPRIO_CLASS_BE"}}), "process.ioPriority.priority: is required");
  EXPECT_EQ(err({{"priority", 1}}), "process.ioPriority.class: is required");
}

TEST(ExecCpuAffinity, ListsAndErrors) {
  auto a = urun::spec::read_exec_cpu_affinity({{"initial", "7"}, {"final", "0-3,7"}}, "p");
  EXPECT_EQ(a.initial_mask, std::vector<uint64_t>{0x80});
  EXPECT_EQ(a.final_mask, std::vector<uint64_t>{0x8f});
  auto only_final = urun::spec::read_exec_cpu_affinity({{"final", "1"}}, "p");
  EXPECT_TRUE(only_final.initial_mask.empty());
  EXPECT_EQ(error_of([] {
              urun::spec::read_exec_cpu_affinity({{"final", "0-"}}, "process.execCPUAffinity");
            }),
            "process.execCPUAffinity.final: cannot parse list `0-` (want ids and ranges such as "
            "`0-3,7`)");
  EXPECT_EQ(error_of([] {
              urun::spec::read_exec_cpu_affinity({{"initial", 3}}, "process.execCPUAffinity");
            }),
            "process.execCPUAffinity.initial: must be a string");
}

TEST(Personality, DomainsAndFlags) {
  EXPECT_EQ(urun::spec::read_personality({{"domain", "LINUX"}}, "p").value, 0u);
  EXPECT_EQ(
      urun::spec::read_personality({{"domain", "LINUX32"}, {"flags", json::array()}}, "p").value,
      8u);
  auto err = [](const json& j) {
    return error_of([&] { urun::spec::read_personality(j, "linux.personality"); });
  };
  EXPECT_EQ(err({{"domain", "LINUX64"}}),
            "linux.personality.domain: unknown domain `LINUX64` (want LINUX or LINUX32)");
  EXPECT_EQ(err({{"domain", "LINUX"}, {"flags", {"ADDR_NO_RANDOMIZE"}}}),
            "linux.personality.flags[0]: unknown flag `ADDR_NO_RANDOMIZE` (runtime-spec 1.3 "
            "defines no personality flag)");
  EXPECT_EQ(err(json::object()), "linux.personality.domain: is required");
}

TEST(MemoryPolicy, ModesNodesAndFlags) {
  auto m = urun::spec::read_memory_policy(
      {{"mode", "MPOL_BIND"}, {"nodes", "0-1"}, {"flags", {"MPOL_F_STATIC_NODES"}}}, "p");
  EXPECT_EQ(m.mode_value, 2 | (1 << 15));
  EXPECT_EQ(m.node_mask, std::vector<uint64_t>{3});
  EXPECT_EQ(urun::spec::read_memory_policy({{"mode", "MPOL_DEFAULT"}}, "p").mode_value, 0);
  EXPECT_TRUE(urun::spec::read_memory_policy({{"mode", "MPOL_LOCAL"}}, "p").node_mask.empty());
  EXPECT_EQ(urun::spec::read_memory_policy({{"mode", "MPOL_PREFERRED"}}, "p").mode_value, 1);
  EXPECT_EQ(
      urun::spec::read_memory_policy({{"mode", "MPOL_WEIGHTED_INTERLEAVE"}, {"nodes", "0"}}, "p")
          .mode_value,
      6);
  EXPECT_EQ(urun::spec::read_memory_policy(
                {{"mode", "MPOL_BIND"}, {"nodes", "0"}, {"flags", {"MPOL_F_NUMA_BALANCING"}}}, "p")
                .mode_value,
            2 | (1 << 13));
  EXPECT_EQ(
      urun::spec::read_memory_policy(
          {{"mode", "MPOL_INTERLEAVE"}, {"nodes", "0"}, {"flags", {"MPOL_F_RELATIVE_NODES"}}}, "p")
          .mode_value,
      3 | (1 << 14));
}

TEST(MemoryPolicy, RefusesWhatSetMempolicyWould) {
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_FAST"}}),
            "linux.memoryPolicy.mode: unknown mode `MPOL_FAST` (want one of MPOL_DEFAULT, "
            "MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE, MPOL_LOCAL, MPOL_PREFERRED_MANY, "
            "MPOL_WEIGHTED_INTERLEAVE)");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_BIND"}, {"nodes", "0"}, {"flags", {"MPOL_F_X"}}}),
            "linux.memoryPolicy.flags[0]: unknown flag `MPOL_F_X` (want one of "
            "MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES)");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_BIND"}}),
            "linux.memoryPolicy.nodes: MPOL_BIND needs at least one node");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_INTERLEAVE"}, {"nodes", ""}}),
            "linux.memoryPolicy.nodes: MPOL_INTERLEAVE needs at least one node");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_DEFAULT"}, {"nodes", "0"}}),
            "linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_LOCAL"}, {"flags", {"MPOL_F_STATIC_NODES"}}}),
            "linux.memoryPolicy.flags: MPOL_LOCAL takes no flags");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_PREFERRED"}, {"flags", {"MPOL_F_RELATIVE_NODES"}}}),
            "linux.memoryPolicy.flags: MPOL_PREFERRED without nodes takes no MPOL_F_*_NODES flag");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_BIND"},
                             {"nodes", "0"},
                             {"flags", {"MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"}}}),
            "linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude "
            "each other");
  EXPECT_EQ(
      mempolicy_error(
          {{"mode", "MPOL_INTERLEAVE"}, {"nodes", "0"}, {"flags", {"MPOL_F_NUMA_BALANCING"}}}),
      "linux.memoryPolicy.flags: MPOL_F_NUMA_BALANCING works only with MPOL_BIND or "
      "MPOL_PREFERRED_MANY");
  EXPECT_EQ(mempolicy_error({{"mode", "MPOL_BIND"}, {"nodes", "0-4096"}}),
            "linux.memoryPolicy.nodes: list `0-4096` names an id above 4095");
  EXPECT_EQ(mempolicy_error({{"nodes", "0"}}), "linux.memoryPolicy.mode: is required");
}

// Through the whole parser, as `create` and `exec --process` read them.
TEST(KernelAttrs, ParserPathsAndRoundTrip) {
  json config = {{"ociVersion", "1.3.0"},
                 {"process",
                  {{"args", {"sh"}},
                   {"scheduler", {{"policy", "SCHED_IDLE"}}},
                   {"ioPriority", {{"class", "IOPRIO_CLASS_BE"}, {"priority", 2}}},
                   {"execCPUAffinity", {{"initial", "0"}, {"final", "0-1"}}}}},
                 {"linux",
                  {{"personality", {{"domain", "LINUX32"}}},
                   {"memoryPolicy", {{"mode", "MPOL_PREFERRED"}, {"nodes", "0"}}}}}};
  urun::spec::Spec s = urun::spec::from_json(config);
  ASSERT_TRUE(s.process->exec_cpu_affinity.has_value());
  EXPECT_EQ(s.process->exec_cpu_affinity->final_mask, std::vector<uint64_t>{3});
  ASSERT_TRUE(s.linux->memory_policy.has_value());
  EXPECT_EQ(s.linux->memory_policy->mode_value, 1);
  json out = urun::spec::to_json(s);
  EXPECT_EQ(out["process"]["scheduler"], config["process"]["scheduler"]);
  EXPECT_EQ(out["process"]["ioPriority"], config["process"]["ioPriority"]);
  EXPECT_EQ(out["process"]["execCPUAffinity"], config["process"]["execCPUAffinity"]);
  EXPECT_EQ(out["linux"]["personality"], config["linux"]["personality"]);
  EXPECT_EQ(out["linux"]["memoryPolicy"], config["linux"]["memoryPolicy"]);

  config["process"]["scheduler"]["policy"] = "SCHED_NOPE";
  EXPECT_EQ(error_of([&] { urun::spec::from_json(config); }),
            "process.scheduler.policy: unknown policy `SCHED_NOPE` (want one of SCHED_OTHER, "
            "SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE)");
  // exec --process: the paths start inside the process object.
  EXPECT_EQ(error_of([] {
              urun::spec::process_from_json(
                  {{"args", {"sh"}}, {"ioPriority", {{"class", "IOPRIO_CLASS_BE"}}}}, "");
            }),
            "ioPriority.priority: is required");
}

}  // namespace

namespace {

// `features` lists these: every name the spec defines for memoryPolicy, and only what the parser
// takes.
TEST(KernelAttrs, NameListsForFeatures) {
  EXPECT_EQ(
      urun::spec::memory_policy_mode_names(),
      (std::vector<std::string>{"MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE",
                                "MPOL_LOCAL", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"}));
  EXPECT_EQ(urun::spec::memory_policy_flag_names(),
            (std::vector<std::string>{"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES",
                                      "MPOL_F_STATIC_NODES"}));
  for (const auto& mode : urun::spec::memory_policy_mode_names()) {
    json j = {{"mode", mode}};
    if (mode != "MPOL_DEFAULT" && mode != "MPOL_LOCAL") j["nodes"] = "0";
    EXPECT_NO_THROW(urun::spec::read_memory_policy(j, "p")) << mode;
  }
  for (const auto& policy : urun::spec::scheduler_policy_names()) {
    json j = {{"policy", policy}, {"flags", {"SCHED_FLAG_KEEP_PARAMS"}}};
    EXPECT_NO_THROW(urun::spec::read_scheduler(j, "p")) << policy;
  }
  EXPECT_EQ(urun::spec::scheduler_flag_names().size(), 7u);
  for (const auto& c : urun::spec::io_priority_class_names())
    EXPECT_NO_THROW(urun::spec::read_io_priority({{"class", c}, {"priority", 0}}, "p")) << c;
}

}  // namespace
