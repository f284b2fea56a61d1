// linux.resources parsing and the v2/v1 write plans (crun manual conversion tables).
#include <gtest/gtest.h>

#include "cgroups/resources.hpp"
#include "common/error.hpp"

namespace {

using nlohmann::json;
using urun::cgroups::parse_resources;
using urun::cgroups::plan_v1;
using urun::cgroups::plan_v2;
using urun::cgroups::Write;

Write w(std::string c, std::string f, std::string v) { return Write{c, f, v, "", "", false}; }
Write fb(std::string c, std::string f, std::string v, std::string ff, std::string fv) {
  return Write{c, f, v, ff, fv, false};
}
Write opt(std::string c, std::string f, std::string v) { return Write{c, f, v, "", "", true}; }

std::string error_of(const json& j) {
  try {
    auto r = parse_resources(j);
    plan_v2(r);
  } catch (const urun::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<Write> v2(const json& j) { return plan_v2(parse_resources(j)); }
std::vector<Write> v1(const json& j) { return plan_v1(parse_resources(j)); }

TEST(CgroupConversion, CpuSharesToWeightBoundaries) {
  EXPECT_EQ(urun::cgroups::cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(urun::cgroups::cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(urun::cgroups::cpu_shares_to_weight(1024), 39u);  // 1 + 1022*9999/262142
  EXPECT_EQ(urun::cgroups::cpu_shares_to_weight(1), 1u);      // clamped
  EXPECT_EQ(urun::cgroups::cpu_shares_to_weight(1000000), 10000u);
}

TEST(CgroupConversion, CpuWeightToSharesIsTheInverseAtTheEnds) {
  EXPECT_EQ(urun::cgroups::cpu_weight_to_shares(1), 2u);
  EXPECT_EQ(urun::cgroups::cpu_weight_to_shares(10000), 262144u);
  EXPECT_EQ(urun::cgroups::cpu_weight_to_shares(100), 2597u);  // 2 + 99*262142/9999
}

TEST(CgroupConversion, BlkioWeightToIoWeightBoundaries) {
  EXPECT_EQ(urun::cgroups::blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(urun::cgroups::blkio_weight_to_io_weight(1000), 10000u);
  EXPECT_EQ(urun::cgroups::blkio_weight_to_io_weight(500), 4950u);  // 1 + 490*9999/990
}

TEST(CgroupConversion, SwapIsMemoryPlusSwapOnV1) {
  using urun::cgroups::memory_swap_v2;
  EXPECT_EQ(memory_swap_v2(300, 100), "200");
  EXPECT_EQ(memory_swap_v2(100, 100), "0");
  EXPECT_EQ(memory_swap_v2(-1, 100), "max");
  EXPECT_EQ(memory_swap_v2(std::nullopt, -1), "max");
  EXPECT_EQ(memory_swap_v2(std::nullopt, 100), std::nullopt);
  EXPECT_EQ(memory_swap_v2(0, 100), std::nullopt);
  EXPECT_THROW(memory_swap_v2(50, 100), urun::Error);
  EXPECT_THROW(memory_swap_v2(300, std::nullopt), urun::Error);
  EXPECT_THROW(memory_swap_v2(300, -1), urun::Error);
}

TEST(CgroupPlanV2, CpuQuotaPeriodCombinations) {
  EXPECT_EQ(v2({{"cpu", {{"quota", 50000}, {"period", 200000}}}}),
            std::vector<Write>{w("cpu", "cpu.max", "50000 200000")});
  EXPECT_EQ(v2({{"cpu", {{"quota", 50000}}}}),
            std::vector<Write>{w("cpu", "cpu.max", "50000 100000")});
  EXPECT_EQ(v2({{"cpu", {{"quota", -1}, {"period", 100000}}}}),
            std::vector<Write>{w("cpu", "cpu.max", "max 100000")});
  EXPECT_EQ(v2({{"cpu", {{"period", 250000}}}}),
            std::vector<Write>{w("cpu", "cpu.max", "max 250000")});
  EXPECT_EQ(v2({{"cpu", {{"quota", -1}}}}), std::vector<Write>{w("cpu", "cpu.max", "max 100000")});
  EXPECT_TRUE(v2({{"cpu", json::object()}}).empty());
}

TEST(CgroupPlanV2, PidsLimitZeroOrNegativeIsMax) {
  EXPECT_EQ(v2({{"pids", {{"limit", 0}}}}), std::vector<Write>{w("pids", "pids.max", "max")});
  EXPECT_EQ(v2({{"pids", {{"limit", -1}}}}), std::vector<Write>{w("pids", "pids.max", "max")});
  EXPECT_EQ(v2({{"pids", {{"limit", 1}}}}), std::vector<Write>{w("pids", "pids.max", "1")});
}

TEST(CgroupPlanV2, SwapAndMemoryOrder) {
  EXPECT_EQ(
      v2({{"memory", {{"limit", 1048576}, {"swap", 3145728}, {"reservation", 524288}}}}),
      (std::vector<Write>{w("memory", "memory.low", "524288"), w("memory", "memory.max", "1048576"),
                          w("memory", "memory.swap.max", "2097152")}));
  EXPECT_EQ(v2({{"memory", {{"limit", -1}}}}),
            (std::vector<Write>{w("memory", "memory.max", "max"),
                                opt("memory", "memory.swap.max", "max")}));
}

TEST(CgroupPlanV2, FullResourcesObject) {
  json j = {
      {"memory", {{"limit", 536870912}, {"swap", 1073741824}, {"swappiness", 10}}},
      {"cpu",
       {{"shares", 1024}, {"quota", 20000}, {"period", 100000}, {"cpus", "0-1"}, {"mems", "0"}}},
      {"pids", {{"limit", 64}}},
      {"blockIO",
       {{"weight", 10},
        {"weightDevice", {{{"major", 8}, {"minor", 0}, {"weight", 1000}}}},
        {"throttleReadBpsDevice", {{{"major", 8}, {"minor", 0}, {"rate", 1048576}}}},
        {"throttleWriteIOPSDevice",
         {{{"major", 8}, {"minor", 0}, {"rate", 100}},
          {{"major", 8}, {"minor", 16}, {"rate", 7}}}}}},
      {"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 209715200}}}},
      {"rdma", {{"mlx5_1", {{"hcaHandles", 3}, {"hcaObjects", 10000}}}}},
      {"unified", {{"memory.high", "400000000"}, {"cgroup.max.depth", "3"}}},
      {"devices", {{{"allow", false}, {"access", "rwm"}}}},
  };
  std::vector<Write> expected = {
      w("cpuset", "cpuset.cpus", "0-1"),
      w("cpuset", "cpuset.mems", "0"),
      w("memory", "memory.max", "536870912"),
      w("memory", "memory.swap.max", "536870912"),
      w("pids", "pids.max", "64"),
      w("cpu", "cpu.weight", "39"),
      w("cpu", "cpu.max", "20000 100000"),
      fb("io", "io.bfq.weight", "10", "io.weight", "1"),
      fb("io", "io.bfq.weight", "8:0 1000", "io.weight", "8:0 10000"),
      w("io", "io.max", "8:0 rbps=1048576 wiops=100"),
      w("io", "io.max", "8:16 wiops=7"),
      w("hugetlb", "hugetlb.2MB.max", "209715200"),
      w("rdma", "rdma.max", "mlx5_1 hca_handle=3 hca_object=10000"),
      w("", "cgroup.max.depth", "3"),
      w("memory", "memory.high", "400000000"),
  };
  EXPECT_EQ(v2(j), expected);
}

TEST(CgroupPlanV2, RealtimeIsRefused) {
  EXPECT_NE(error_of({{"cpu", {{"realtimeRuntime", 950000}}}}).find("not supported on cgroup v2"),
            std::string::npos);
}

TEST(CgroupPlanV1, FullResourcesObject) {
  json j = {
      {"memory",
       {{"limit", 536870912},
        {"swap", 1073741824},
        {"reservation", 268435456},
        {"kernel", 1000000},
        {"swappiness", 10},
        {"disableOOMKiller", true}}},
      {"cpu",
       {{"shares", 1024},
        {"quota", 20000},
        {"period", 100000},
        {"realtimeRuntime", 950000},
        {"realtimePeriod", 1000000},
        {"cpus", "0"},
        {"mems", "0"}}},
      {"pids", {{"limit", 0}}},
      {"blockIO",
       {{"weight", 500},
        {"weightDevice", {{{"major", 8}, {"minor", 0}, {"weight", 600}, {"leafWeight", 300}}}},
        {"throttleReadBpsDevice", {{{"major", 8}, {"minor", 0}, {"rate", 1048576}}}},
        {"throttleWriteBpsDevice", {{{"major", 8}, {"minor", 0}, {"rate", 2097152}}}},
        {"throttleReadIOPSDevice", {{{"major", 8}, {"minor", 0}, {"rate", 300}}}},
        {"throttleWriteIOPSDevice", {{{"major", 8}, {"minor", 0}, {"rate", 400}}}}}},
      {"hugepageLimits", {{{"pageSize", "1GB"}, {"limit", 1073741824}}}},
      {"devices",
       {{{"allow", false}, {"access", "rwm"}},
        {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}},
        {{"allow", true}, {"type", "c"}, {"major", 136}, {"access", "rwm"}}}},
      {"network", {{"classID", 1048577}, {"priorities", {{{"name", "eth0"}, {"priority", 5}}}}}},
  };
  std::vector<Write> expected = {
      w("cpuset", "cpuset.cpus", "0"),
      w("cpuset", "cpuset.mems", "0"),
      w("memory", "memory.limit_in_bytes", "536870912"),
      w("memory", "memory.memsw.limit_in_bytes", "1073741824"),
      w("memory", "memory.soft_limit_in_bytes", "268435456"),
      opt("memory", "memory.kmem.limit_in_bytes", "1000000"),
      w("memory", "memory.swappiness", "10"),
      w("memory", "memory.oom_control", "1"),
      w("pids", "pids.max", "max"),
      w("cpu", "cpu.shares", "1024"),
      w("cpu", "cpu.cfs_period_us", "100000"),
      w("cpu", "cpu.cfs_quota_us", "20000"),
      w("cpu", "cpu.rt_period_us", "1000000"),
      w("cpu", "cpu.rt_runtime_us", "950000"),
      fb("blkio", "blkio.weight", "500", "blkio.bfq.weight", "500"),
      fb("blkio", "blkio.weight_device", "8:0 600", "blkio.bfq.weight_device", "8:0 600"),
      opt("blkio", "blkio.leaf_weight_device", "8:0 300"),
      w("blkio", "blkio.throttle.read_bps_device", "8:0 1048576"),
      w("blkio", "blkio.throttle.write_bps_device", "8:0 2097152"),
      w("blkio", "blkio.throttle.read_iops_device", "8:0 300"),
      w("blkio", "blkio.throttle.write_iops_device", "8:0 400"),
      w("hugetlb", "hugetlb.1GB.limit_in_bytes", "1073741824"),
      w("devices", "devices.deny", "a *:* rwm"),
      w("devices", "devices.allow", "c 1:3 rw"),
      w("devices", "devices.allow", "c 136:* rwm"),
      w("net_cls", "net_cls.classid", "1048577"),
      w("net_prio", "net_prio.ifpriomap", "eth0 5"),
  };
  EXPECT_EQ(v1(j), expected);
}

TEST(CgroupPlanV1, UnifiedKeysAreConverted) {
  json j = {{"unified",
             {{"memory.max", "max"},
              {"pids.max", "100"},
              {"cpu.max", "50000 100000"},
              {"cpu.weight", "10000"}}}};
  std::vector<Write> expected = {
      w("cpu", "cpu.cfs_period_us", "100000"),
      w("cpu", "cpu.cfs_quota_us", "50000"),
      w("cpu", "cpu.shares", "262144"),
      w("memory", "memory.limit_in_bytes", "-1"),
      w("pids", "pids.max", "100"),
  };
  EXPECT_EQ(v1(j), expected);
  EXPECT_EQ(v1({{"unified", {{"cpu.max", "max"}}}}),
            std::vector<Write>{w("cpu", "cpu.cfs_quota_us", "-1")});
  EXPECT_EQ(v1({{"unified", {{"cpu.weight", "1"}}}}),
            std::vector<Write>{w("cpu", "cpu.shares", "2")});
}

TEST(CgroupPlanV1, UnconvertibleUnifiedKeyIsAnErrorNamingIt) {
  try {
    v1({{"unified", {{"memory.high", "1000"}}}});
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(), "linux.resources.unified.memory.high: cannot be converted to cgroup v1");
  }
  EXPECT_THROW(v1({{"unified", {{"cpu.weight", "0"}}}}), urun::Error);
  EXPECT_THROW(v1({{"unified", {{"memory.max", "lots"}}}}), urun::Error);
}

TEST(CgroupResources, UnifiedKeyValidation) {
  EXPECT_EQ(error_of({{"unified", {{"../memory.max", "1"}}}}),
            "linux.resources.unified: key `../memory.max`: must be a cgroup file name like "
            "memory.max");
  EXPECT_NE(error_of({{"unified", {{"a/memory.max", "1"}}}}), "");
  EXPECT_NE(error_of({{"unified", {{"memorymax", "1"}}}}), "");
  EXPECT_NE(error_of({{"unified", {{"memory..max", "1"}}}}), "");
  EXPECT_EQ(error_of({{"unified", {{"memory.max", 1}}}}),
            "linux.resources.unified.memory.max: must be a string");
  EXPECT_EQ(error_of({{"unified", {{"memory.max", "1"}}}}), "");
}

TEST(CgroupResources, ErrorsNameTheJsonPath) {
  EXPECT_EQ(error_of({{"memory", {{"limit", "1G"}}}}),
            "linux.resources.memory.limit: must be an integer");
  EXPECT_EQ(error_of({{"cpu", {{"shares", -5}}}}),
            "linux.resources.cpu.shares: must be a non-negative integer");
  EXPECT_EQ(error_of({{"blockIO", {{"weight", 5}}}}),
            "linux.resources.blockIO.weight: must be between 10 and 1000");
  EXPECT_EQ(error_of({{"blockIO", {{"throttleReadBpsDevice", {{{"major", 8}, {"rate", 1}}}}}}}),
            "linux.resources.blockIO.throttleReadBpsDevice[0].minor: is required");
  EXPECT_EQ(error_of({{"devices", {{{"allow", true}, {"access", "rwx"}}}}}),
            "linux.resources.devices[0].access: must be a combination of r, w, m");
  EXPECT_EQ(error_of({{"hugepageLimits", {{{"pageSize", "../2MB"}, {"limit", 1}}}}}),
            "linux.resources.hugepageLimits[0].pageSize: must look like 2MB or 1GB");
  EXPECT_EQ(error_of({{"memory", {{"swappiness", 101}}}}),
            "linux.resources.memory.swappiness: must be at most 100");
  EXPECT_EQ(error_of(json::array()), "linux.resources: must be an object");
}

TEST(CgroupResources, ParsesEveryField) {
  auto r = parse_resources(json{
      {"memory",
       {{"limit", 1},
        {"reservation", 2},
        {"swap", 3},
        {"kernel", 4},
        {"kernelTCP", 5},
        {"swappiness", 6},
        {"disableOOMKiller", true},
        {"useHierarchy", false},
        {"checkBeforeUpdate", true}}},
      {"cpu", {{"burst", 7}, {"idle", 1}, {"realtimePeriod", 8}}},
      {"pids", {{"limit", 9}}},
      {"blockIO", {{"leafWeight", 20}}},
  });
  ASSERT_TRUE(r.memory);
  EXPECT_EQ(r.memory->kernel_tcp, 5);
  EXPECT_EQ(r.memory->swappiness, 6u);
  EXPECT_EQ(r.memory->use_hierarchy, false);
  EXPECT_EQ(r.memory->check_before_update, true);
  EXPECT_EQ(r.cpu->burst, 7u);
  EXPECT_EQ(r.cpu->idle, 1);
  EXPECT_EQ(r.pids->limit, 9);
  EXPECT_EQ(r.block_io->leaf_weight, 20);
  EXPECT_TRUE(parse_resources(nullptr).empty());
}

}  // namespace
