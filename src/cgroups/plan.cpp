// Pure conversions from typed resources to cgroup file writes (crun manual, "CGROUP v2"
// conversion tables). The managers write these plans in order; tests check them exactly.
#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "cgroups/resources.hpp"
#include "common/error.hpp"

namespace urun::cgroups {
namespace {

constexpr uint64_t kDefaultCpuPeriod = 100000;  // the kernel's default CFS period (µs)

Write w(std::string controller, std::string file, std::string value) {
  return Write{std::move(controller), std::move(file), std::move(value), "", "", false};
}

Write optional_write(std::string controller, std::string file, std::string value) {
  Write out = w(std::move(controller), std::move(file), std::move(value));
  out.optional = true;
  return out;
}

// A knob newer kernels have: absent, the write fails saying so (a limit asked for is never
// dropped in silence).
Write kernel_write(std::string controller, std::string file, std::string value,
                   std::string reason) {
  Write out = w(std::move(controller), std::move(file), std::move(value));
  out.missing_reason = std::move(reason);
  return out;
}

Write with_fallback(std::string controller, std::string file, std::string value,
                    std::string fallback_file, std::string fallback_value) {
  Write out = w(std::move(controller), std::move(file), std::move(value));
  out.fallback_file = std::move(fallback_file);
  out.fallback_value = std::move(fallback_value);
  return out;
}

std::string dev(int64_t major, int64_t minor) {
  return std::to_string(major) + ":" + std::to_string(minor);
}

// -1 means "no limit": v2 spells it max, v1 accepts -1.
std::string v2_limit(int64_t n) { return n < 0 ? "max" : std::to_string(n); }

[[noreturn]] void unified_fail(const std::string& key, std::string_view why) {
  throw Error("linux.resources.unified." + key + ": " + std::string(why), EINVAL);
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

std::string trim(std::string s) {
  const char* ws = " \t\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

// rdma.max line for one device: "mlx4_0 hca_handle=2 hca_object=2000".
std::optional<std::string> rdma_line(const std::string& name, const RdmaLimit& l) {
  if (!l.hca_handles && !l.hca_objects) return std::nullopt;
  std::string line = name;
  if (l.hca_handles) line += " hca_handle=" + std::to_string(*l.hca_handles);
  if (l.hca_objects) line += " hca_object=" + std::to_string(*l.hca_objects);
  return line;
}

void plan_cpuset(const CpuResources& c, std::vector<Write>& out) {
  // cpuset first: the other controllers' limits do not depend on it, but a process
  // moved in later needs valid cpus and mems.
  if (c.cpus && !c.cpus->empty()) out.push_back(w("cpuset", "cpuset.cpus", *c.cpus));
  if (c.mems && !c.mems->empty()) out.push_back(w("cpuset", "cpuset.mems", *c.mems));
}

}  // namespace

uint64_t cpu_shares_to_weight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cpu_weight_to_shares(uint64_t weight) {
  weight = std::clamp<uint64_t>(weight, 1, 10000);
  return 2 + ((weight - 1) * 262142) / 9999;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

std::optional<std::string> memory_swap_v2(std::optional<int64_t> swap,
                                          std::optional<int64_t> limit) {
  // An unlimited memory with no swap setting means unlimited swap too, as on v1 where
  // memsw follows the memory limit.
  if (!swap || *swap == 0) {
    if (limit && *limit < 0) return "max";
    return std::nullopt;
  }
  if (*swap < 0) return "max";
  if (!limit || *limit <= 0)
    throw Error("linux.resources.memory.swap: cannot be set without memory.limit", EINVAL);
  // On v1 swap counts memory + swap; v2's memory.swap.max counts swap alone.
  if (*swap < *limit)
    throw Error("linux.resources.memory.swap: must not be lower than memory.limit (" +
                    std::to_string(*limit) + ")",
                EINVAL);
  return std::to_string(*swap - *limit);
}

namespace {

void plan_v2_memory(const MemoryResources& m, std::vector<Write>& out) {
  if (m.reservation) out.push_back(w("memory", "memory.low", v2_limit(*m.reservation)));
  if (m.limit) out.push_back(w("memory", "memory.max", v2_limit(*m.limit)));
  if (auto swap = memory_swap_v2(m.swap, m.limit)) {
    Write sw = w("memory", "memory.swap.max", *swap);
    // Without swap accounting the file is absent: "no limit" then needs no write.
    sw.optional = *swap == "max";
    out.push_back(std::move(sw));
  }
  // kernel, kernelTCP, swappiness, disableOOMKiller and useHierarchy have no v2 file.
}

Write pids_write(const PidsResources& p) {
  return w("pids", "pids.max", p.limit <= 0 ? "max" : std::to_string(p.limit));
}

using ThrottleList = std::pair<const char*, const std::vector<ThrottleDevice>*>;

// blockIO's four throttle lists (read bps, write bps, read iops, write iops), each with the
// name the version gives it.
std::array<ThrottleList, 4> throttle_lists(const BlockIoResources& b,
                                           const std::array<const char*, 4>& names) {
  return {ThrottleList{names[0], &b.throttle_read_bps_device},
          ThrottleList{names[1], &b.throttle_write_bps_device},
          ThrottleList{names[2], &b.throttle_read_iops_device},
          ThrottleList{names[3], &b.throttle_write_iops_device}};
}

template <typename T>
using PlanPart = void (*)(const T&, std::vector<Write>&);

// The writes both versions start with, in this order: cpuset, memory, pids, cpu, block I/O
// (each version with its own files for memory, cpu and block I/O).
std::vector<Write> plan_controllers(const Resources& r, PlanPart<MemoryResources> memory,
                                    PlanPart<CpuResources> cpu, PlanPart<BlockIoResources> io) {
  std::vector<Write> out;
  if (r.cpu) plan_cpuset(*r.cpu, out);
  if (r.memory) memory(*r.memory, out);
  if (r.pids) out.push_back(pids_write(*r.pids));
  if (r.cpu) cpu(*r.cpu, out);
  if (r.block_io) io(*r.block_io, out);
  return out;
}

void plan_v2_cpu(const CpuResources& c, std::vector<Write>& out) {
  if (c.shares && *c.shares != 0)
    out.push_back(w("cpu", "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares))));
  const bool has_quota = c.quota && *c.quota != 0;
  if (has_quota || (c.period && *c.period != 0)) {
    // cpu.max takes quota and period in one write: writing them apart would briefly
    // combine the new quota with the old period.
    uint64_t period = c.period && *c.period != 0 ? *c.period : kDefaultCpuPeriod;
    std::string quota = has_quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
    out.push_back(w("cpu", "cpu.max", quota + " " + std::to_string(period)));
  }
  if (c.burst)
    out.push_back(kernel_write("cpu", "cpu.max.burst", std::to_string(*c.burst),
                               "CPU burst needs Linux 5.14 and the cpu controller"));
  if (c.idle)
    out.push_back(kernel_write("cpu", "cpu.idle", std::to_string(*c.idle),
                               "cgroup SCHED_IDLE needs Linux 5.15 and the cpu controller"));
  if ((c.realtime_runtime && *c.realtime_runtime != 0) ||
      (c.realtime_period && *c.realtime_period != 0))
    throw Error(
        "linux.resources.cpu.realtimeRuntime: realtime scheduling is not supported "
        "on cgroup v2",
        EINVAL);
}

void plan_v2_io(const BlockIoResources& b, std::vector<Write>& out) {
  // BFQ takes the OCI weight as is; without BFQ io.weight uses a [1, 10000] scale.
  if (b.weight)
    out.push_back(with_fallback("io", "io.bfq.weight", std::to_string(*b.weight), "io.weight",
                                std::to_string(blkio_weight_to_io_weight(*b.weight))));
  for (const auto& d : b.weight_device) {
    if (!d.weight) continue;
    const std::string id = dev(d.major, d.minor);
    out.push_back(with_fallback("io", "io.bfq.weight", id + " " + std::to_string(*d.weight),
                                "io.weight",
                                id + " " + std::to_string(blkio_weight_to_io_weight(*d.weight))));
  }
  // io.max takes one line per device with all its limits; v1 kept one file per kind.
  std::map<std::pair<int64_t, int64_t>, std::string> lines;
  for (const auto& [key, list] : throttle_lists(b, {"rbps", "wbps", "riops", "wiops"}))
    for (const auto& t : *list) {
      // A rate of 0 removes the limit on v1; v2 spells that max.
      lines[{t.major, t.minor}] +=
          std::string(" ") + key + "=" + (t.rate == 0 ? "max" : std::to_string(t.rate));
    }
  for (const auto& [id, line] : lines)
    out.push_back(w("io", "io.max", dev(id.first, id.second) + line));
}

}  // namespace

std::vector<Write> plan_v2(const Resources& r) {
  std::vector<Write> out = plan_controllers(r, plan_v2_memory, plan_v2_cpu, plan_v2_io);
  for (const auto& h : r.hugepage_limits)
    out.push_back(w("hugetlb", "hugetlb." + h.page_size + ".max", std::to_string(h.limit)));
  for (const auto& [name, limit] : r.rdma)
    if (auto line = rdma_line(name, limit)) out.push_back(w("rdma", "rdma.max", *line));
  // devices need an eBPF program on v2 (bpf_device_program.hpp, attached by the
  // manager); network (net_cls, net_prio) has no v2 controller.
  for (const auto& [key, value] : r.unified) {
    check_unified_key(key);
    std::string controller = key.substr(0, key.find('.'));
    if (controller == "cgroup") controller.clear();
    out.push_back(w(controller, key, value));
  }
  return out;
}

namespace {

void plan_v1_memory(const MemoryResources& m, std::vector<Write>& out) {
  // The limit comes before memsw: the kernel requires memory <= memory+swap at every
  // step (the manager swaps the order when raising both).
  if (m.limit) out.push_back(w("memory", "memory.limit_in_bytes", std::to_string(*m.limit)));
  if (m.swap && *m.swap != 0)
    out.push_back(w("memory", "memory.memsw.limit_in_bytes", std::to_string(*m.swap)));
  if (m.reservation)
    out.push_back(w("memory", "memory.soft_limit_in_bytes", std::to_string(*m.reservation)));
  // Kernel memory limits were removed from recent kernels: skip them when absent.
  if (m.kernel)
    out.push_back(
        optional_write("memory", "memory.kmem.limit_in_bytes", std::to_string(*m.kernel)));
  if (m.kernel_tcp)
    out.push_back(
        optional_write("memory", "memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp)));
  if (m.swappiness) out.push_back(w("memory", "memory.swappiness", std::to_string(*m.swappiness)));
  if (m.disable_oom_killer && *m.disable_oom_killer)
    out.push_back(w("memory", "memory.oom_control", "1"));
  if (m.use_hierarchy)
    out.push_back(optional_write("memory", "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0"));
}

void plan_v1_cpu(const CpuResources& c, std::vector<Write>& out) {
  if (c.shares && *c.shares != 0) out.push_back(w("cpu", "cpu.shares", std::to_string(*c.shares)));
  if (c.period && *c.period != 0)
    out.push_back(w("cpu", "cpu.cfs_period_us", std::to_string(*c.period)));
  if (c.quota && *c.quota != 0)
    out.push_back(w("cpu", "cpu.cfs_quota_us", std::to_string(*c.quota < 0 ? -1 : *c.quota)));
  if (c.burst)
    out.push_back(kernel_write("cpu", "cpu.cfs_burst_us", std::to_string(*c.burst),
                               "this kernel has no CPU burst (Linux 5.14)"));
  // The runtime must fit in the period: set the period first.
  if (c.realtime_period && *c.realtime_period != 0)
    out.push_back(w("cpu", "cpu.rt_period_us", std::to_string(*c.realtime_period)));
  if (c.realtime_runtime && *c.realtime_runtime != 0)
    out.push_back(w("cpu", "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime)));
  if (c.idle)
    out.push_back(kernel_write("cpu", "cpu.idle", std::to_string(*c.idle),
                               "this kernel has no cgroup SCHED_IDLE (Linux 5.15)"));
}

void plan_v1_blkio(const BlockIoResources& b, std::vector<Write>& out) {
  // CFQ's blkio.weight is gone from kernels >= 5.0; BFQ offers blkio.bfq.weight.
  if (b.weight)
    out.push_back(with_fallback("blkio", "blkio.weight", std::to_string(*b.weight),
                                "blkio.bfq.weight", std::to_string(*b.weight)));
  if (b.leaf_weight)
    out.push_back(optional_write("blkio", "blkio.leaf_weight", std::to_string(*b.leaf_weight)));
  for (const auto& d : b.weight_device) {
    const std::string id = dev(d.major, d.minor);
    if (d.weight)
      out.push_back(with_fallback("blkio", "blkio.weight_device",
                                  id + " " + std::to_string(*d.weight), "blkio.bfq.weight_device",
                                  id + " " + std::to_string(*d.weight)));
    if (d.leaf_weight)
      out.push_back(optional_write("blkio", "blkio.leaf_weight_device",
                                   id + " " + std::to_string(*d.leaf_weight)));
  }
  for (const auto& [file, list] :
       throttle_lists(b, {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                          "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"}))
    for (const auto& t : *list)
      out.push_back(w("blkio", file, dev(t.major, t.minor) + " " + std::to_string(t.rate)));
}

// v2 keys on a v1 host: convert the few with a v1 equivalent, refuse the rest rather
// than silently dropping a limit the user asked for.
void plan_v1_unified(const std::string& key, const std::string& raw, std::vector<Write>& out) {
  check_unified_key(key);
  const std::string value = trim(raw);
  if (key == "memory.max") {
    if (value == "max") {
      out.push_back(w("memory", "memory.limit_in_bytes", "-1"));
    } else if (parse_u64(value)) {
      out.push_back(w("memory", "memory.limit_in_bytes", value));
    } else {
      unified_fail(key, "must be a number of bytes or max");
    }
  } else if (key == "pids.max") {
    if (value != "max" && !parse_u64(value)) unified_fail(key, "must be a number or max");
    out.push_back(w("pids", "pids.max", value));
  } else if (key == "cpu.max") {
    const size_t space = value.find_first_of(" \t");
    const std::string quota = value.substr(0, space);
    const std::string period = space == std::string::npos ? "" : trim(value.substr(space));
    if ((quota != "max" && !parse_u64(quota)) || (!period.empty() && !parse_u64(period)))
      unified_fail(key, "must be \"QUOTA [PERIOD]\" with QUOTA a number or max");
    if (!period.empty()) out.push_back(w("cpu", "cpu.cfs_period_us", period));
    out.push_back(w("cpu", "cpu.cfs_quota_us", quota == "max" ? "-1" : quota));
  } else if (key == "cpu.weight") {
    auto weight = parse_u64(value);
    if (!weight || *weight < 1 || *weight > 10000)
      unified_fail(key, "must be a number between 1 and 10000");
    out.push_back(w("cpu", "cpu.shares", std::to_string(cpu_weight_to_shares(*weight))));
  } else {
    unified_fail(key, "cannot be converted to cgroup v1");
  }
}

}  // namespace

std::vector<Write> plan_v1(const Resources& r) {
  std::vector<Write> out = plan_controllers(r, plan_v1_memory, plan_v1_cpu, plan_v1_blkio);
  for (const auto& h : r.hugepage_limits)
    out.push_back(
        w("hugetlb", "hugetlb." + h.page_size + ".limit_in_bytes", std::to_string(h.limit)));
  for (const auto& d : r.devices) {
    std::string rule = d.type + " " + (d.major ? std::to_string(*d.major) : "*") + ":" +
                       (d.minor ? std::to_string(*d.minor) : "*") + " " + d.access;
    out.push_back(w("devices", d.allow ? "devices.allow" : "devices.deny", rule));
  }
  if (const auto& n = r.network) {
    if (n->class_id) out.push_back(w("net_cls", "net_cls.classid", std::to_string(*n->class_id)));
    for (const auto& [iface, prio] : n->priorities)
      out.push_back(w("net_prio", "net_prio.ifpriomap", iface + " " + std::to_string(prio)));
  }
  for (const auto& [name, limit] : r.rdma)
    if (auto line = rdma_line(name, limit)) out.push_back(w("rdma", "rdma.max", *line));
  for (const auto& [key, raw] : r.unified) plan_v1_unified(key, raw, out);
  return out;
}

}  // namespace urun::cgroups
