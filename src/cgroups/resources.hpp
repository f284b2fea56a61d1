#pragma once
// linux.resources of the runtime-spec (1.2 LinuxResources) as typed structs, and the
// pure conversion of those structs into the cgroup files to write on cgroup v2 and v1.
//
// Nothing here touches the file system: the plans are plain {controller, file, value}
// lists so the conversions (crun manual, "CGROUP v2" tables) can be checked exactly in
// unit tests, and the managers only have to write them in order.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace urun::cgroups {

struct MemoryResources {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;  // memory + swap, as on cgroup v1
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
  std::optional<bool> use_hierarchy;
  std::optional<bool> check_before_update;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<int64_t> idle;
};

struct PidsResources {
  int64_t limit = 0;  // <= 0: unlimited
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct BlockIoResources {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device;
  std::vector<ThrottleDevice> throttle_write_bps_device;
  std::vector<ThrottleDevice> throttle_read_iops_device;
  std::vector<ThrottleDevice> throttle_write_iops_device;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB"
  uint64_t limit = 0;
};

struct DeviceRule {
  bool allow = false;
  std::string type = "a";  // a | b | c
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::string access = "rwm";
};

struct NetworkResources {
  std::optional<uint32_t> class_id;
  std::vector<std::pair<std::string, uint32_t>> priorities;  // interface, priority
};

struct RdmaLimit {
  std::optional<uint32_t> hca_handles;
  std::optional<uint32_t> hca_objects;
};

struct Resources {
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::optional<BlockIoResources> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::vector<DeviceRule> devices;
  std::optional<NetworkResources> network;
  std::map<std::string, RdmaLimit> rdma;
  std::map<std::string, std::string> unified;

  bool empty() const {
    return !memory && !cpu && !pids && !block_io && hugepage_limits.empty() && devices.empty() &&
           !network && rdma.empty() && unified.empty();
  }
};

// Parses linux.resources (null -> empty). Throws urun::Error naming the JSON path:
// "linux.resources.memory.limit: must be an integer".
Resources parse_resources(const nlohmann::json& j);

// One write of a plan. controller is the cgroup controller that owns the file ("memory",
// "io", ...; "" for core cgroup.* files): on v2 it must be enabled in the parent's
// cgroup.subtree_control, on v1 it selects the hierarchy. When file does not exist
// (ENOENT), fallback_file/fallback_value are written instead if set; otherwise the write
// is skipped when optional is true and is an error when it is not.
struct Write {
  std::string controller;
  std::string file;
  std::string value;
  std::string fallback_file;
  std::string fallback_value;
  bool optional = false;
  // Why file may be absent (a kernel too old), for the error when it is.
  std::string missing_reason;

  bool operator==(const Write&) const = default;
};

// The conversions of the crun manual, exposed for tests and for `urun update`.
// shares [2, 262144] -> cpu.weight [1, 10000]; shares outside the range are clamped.
uint64_t cpu_shares_to_weight(uint64_t shares);
// cpu.weight [1, 10000] -> shares [2, 262144] (the inverse, for v2 keys on a v1 host).
uint64_t cpu_weight_to_shares(uint64_t weight);
// blkio weight [10, 1000] -> io.weight [1, 10000].
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// memory.swap.max value for OCI swap (memory + swap) and limit; nullopt: do not write.
// Throws when swap is set without a memory limit or below it.
std::optional<std::string> memory_swap_v2(std::optional<int64_t> swap,
                                          std::optional<int64_t> limit);

// Validates a linux.resources.unified key: a file name with a '.', no '/' and no "..".
void check_unified_key(const std::string& key);

// The writes for a cgroup v2 directory, in the order they must happen.
std::vector<Write> plan_v2(const Resources& r);
// The writes for cgroup v1 hierarchies (controller selects the hierarchy). The unified
// map is converted where v1 has an equivalent (memory.max, pids.max, cpu.max,
// cpu.weight); any other key is an error naming it.
std::vector<Write> plan_v1(const Resources& r);

}  // namespace urun::cgroups
