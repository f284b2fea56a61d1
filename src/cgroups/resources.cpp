// Parsing of linux.resources into the typed structs of resources.hpp. Every error names
// the JSON path of the offending value so the user can find it in config.json.
#include "cgroups/resources.hpp"

#include <limits>
#include <string_view>

#include "common/error.hpp"

namespace urun::cgroups {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, std::string_view why) {
  throw Error(path + ": " + std::string(why), EINVAL);
}

const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void expect_object(const json& v, const std::string& path) {
  if (!v.is_object()) fail(path, "must be an object");
}

int64_t get_i64(const json& v, const std::string& path) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(v.get<uint64_t>());
  fail(path, "must be an integer");
}

uint64_t get_u64(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    if (v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
    fail(path, "must be a non-negative integer");
  }
  fail(path, "must be an integer");
}

uint64_t get_bounded(const json& v, const std::string& path, uint64_t max) {
  uint64_t n = get_u64(v, path);
  if (n > max) fail(path, "must be at most " + std::to_string(max));
  return n;
}

std::string get_string(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "must be a string");
  return v.get<std::string>();
}

bool get_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) fail(path, "must be a boolean");
  return v.get<bool>();
}

template <class T, class F>
void opt(const json& obj, const std::string& path, const char* key, std::optional<T>& out,
         F&& get) {
  if (const json* v = member(obj, key)) out = get(*v, path + "." + key);
}

// blkio weights: the kernel rejects anything outside [10, 1000].
uint16_t get_blkio_weight(const json& v, const std::string& path) {
  uint64_t n = get_u64(v, path);
  if (n < 10 || n > 1000) fail(path, "must be between 10 and 1000");
  return static_cast<uint16_t>(n);
}

MemoryResources parse_memory(const json& j, const std::string& p) {
  expect_object(j, p);
  MemoryResources m;
  opt(j, p, "limit", m.limit, get_i64);
  opt(j, p, "reservation", m.reservation, get_i64);
  opt(j, p, "swap", m.swap, get_i64);
  opt(j, p, "kernel", m.kernel, get_i64);
  opt(j, p, "kernelTCP", m.kernel_tcp, get_i64);
  opt(j, p, "swappiness", m.swappiness,
      [](const json& v, const std::string& path) { return get_bounded(v, path, 100); });
  opt(j, p, "disableOOMKiller", m.disable_oom_killer, get_bool);
  opt(j, p, "useHierarchy", m.use_hierarchy, get_bool);
  opt(j, p, "checkBeforeUpdate", m.check_before_update, get_bool);
  return m;
}

CpuResources parse_cpu(const json& j, const std::string& p) {
  expect_object(j, p);
  CpuResources c;
  opt(j, p, "shares", c.shares, get_u64);
  opt(j, p, "quota", c.quota, get_i64);
  opt(j, p, "burst", c.burst, get_u64);
  opt(j, p, "period", c.period, get_u64);
  opt(j, p, "realtimeRuntime", c.realtime_runtime, get_i64);
  opt(j, p, "realtimePeriod", c.realtime_period, get_u64);
  opt(j, p, "cpus", c.cpus, get_string);
  opt(j, p, "mems", c.mems, get_string);
  opt(j, p, "idle", c.idle, get_i64);
  return c;
}

void parse_device_numbers(const json& j, const std::string& p, int64_t& major, int64_t& minor) {
  const json* ma = member(j, "major");
  const json* mi = member(j, "minor");
  if (!ma) fail(p + ".major", "is required");
  if (!mi) fail(p + ".minor", "is required");
  major = get_i64(*ma, p + ".major");
  minor = get_i64(*mi, p + ".minor");
  if (major < 0) fail(p + ".major", "must be a non-negative integer");
  if (minor < 0) fail(p + ".minor", "must be a non-negative integer");
}

std::vector<ThrottleDevice> parse_throttle(const json& j, const std::string& p) {
  if (!j.is_array()) fail(p, "must be an array");
  std::vector<ThrottleDevice> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string ip = p + "[" + std::to_string(i) + "]";
    expect_object(j[i], ip);
    ThrottleDevice d;
    parse_device_numbers(j[i], ip, d.major, d.minor);
    const json* rate = member(j[i], "rate");
    if (!rate) fail(ip + ".rate", "is required");
    d.rate = get_u64(*rate, ip + ".rate");
    out.push_back(d);
  }
  return out;
}

BlockIoResources parse_block_io(const json& j, const std::string& p) {
  expect_object(j, p);
  BlockIoResources b;
  opt(j, p, "weight", b.weight, get_blkio_weight);
  opt(j, p, "leafWeight", b.leaf_weight, get_blkio_weight);
  if (const json* wd = member(j, "weightDevice")) {
    const std::string wp = p + ".weightDevice";
    if (!wd->is_array()) fail(wp, "must be an array");
    for (size_t i = 0; i < wd->size(); ++i) {
      const std::string ip = wp + "[" + std::to_string(i) + "]";
      expect_object((*wd)[i], ip);
      WeightDevice d;
      parse_device_numbers((*wd)[i], ip, d.major, d.minor);
      opt((*wd)[i], ip, "weight", d.weight, get_blkio_weight);
      opt((*wd)[i], ip, "leafWeight", d.leaf_weight, get_blkio_weight);
      b.weight_device.push_back(d);
    }
  }
  const std::pair<const char*, std::vector<ThrottleDevice> BlockIoResources::*> throttles[] = {
      {"throttleReadBpsDevice", &BlockIoResources::throttle_read_bps_device},
      {"throttleWriteBpsDevice", &BlockIoResources::throttle_write_bps_device},
      {"throttleReadIOPSDevice", &BlockIoResources::throttle_read_iops_device},
      {"throttleWriteIOPSDevice", &BlockIoResources::throttle_write_iops_device},
  };
  for (const auto& [key, field] : throttles)
    if (const json* t = member(j, key)) b.*field = parse_throttle(*t, p + "." + key);
  return b;
}

std::vector<DeviceRule> parse_devices(const json& j, const std::string& p) {
  if (!j.is_array()) fail(p, "must be an array");
  std::vector<DeviceRule> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string ip = p + "[" + std::to_string(i) + "]";
    expect_object(j[i], ip);
    DeviceRule d;
    const json* allow = member(j[i], "allow");
    if (!allow) fail(ip + ".allow", "is required");
    d.allow = get_bool(*allow, ip + ".allow");
    if (const json* t = member(j[i], "type")) {
      d.type = get_string(*t, ip + ".type");
      if (d.type != "a" && d.type != "b" && d.type != "c")
        fail(ip + ".type", "must be one of a, b, c");
    }
    opt(j[i], ip, "major", d.major, get_i64);
    opt(j[i], ip, "minor", d.minor, get_i64);
    if (d.major && *d.major < 0) d.major.reset();  // -1 is the wildcard in older configs
    if (d.minor && *d.minor < 0) d.minor.reset();
    if (const json* a = member(j[i], "access")) {
      d.access = get_string(*a, ip + ".access");
      if (d.access.empty() || d.access.find_first_not_of("rwm") != std::string::npos)
        fail(ip + ".access", "must be a combination of r, w, m");
    }
    out.push_back(std::move(d));
  }
  return out;
}

NetworkResources parse_network(const json& j, const std::string& p) {
  expect_object(j, p);
  NetworkResources n;
  opt(j, p, "classID", n.class_id, [](const json& v, const std::string& path) {
    return static_cast<uint32_t>(get_bounded(v, path, UINT32_MAX));
  });
  if (const json* pr = member(j, "priorities")) {
    const std::string pp = p + ".priorities";
    if (!pr->is_array()) fail(pp, "must be an array");
    for (size_t i = 0; i < pr->size(); ++i) {
      const std::string ip = pp + "[" + std::to_string(i) + "]";
      expect_object((*pr)[i], ip);
      const json* name = member((*pr)[i], "name");
      const json* prio = member((*pr)[i], "priority");
      if (!name) fail(ip + ".name", "is required");
      if (!prio) fail(ip + ".priority", "is required");
      n.priorities.emplace_back(
          get_string(*name, ip + ".name"),
          static_cast<uint32_t>(get_bounded(*prio, ip + ".priority", UINT32_MAX)));
    }
  }
  return n;
}

}  // namespace

Resources parse_resources(const json& j) {
  Resources r;
  if (j.is_null()) return r;
  const std::string p = "linux.resources";
  expect_object(j, p);
  if (const json* v = member(j, "memory")) r.memory = parse_memory(*v, p + ".memory");
  if (const json* v = member(j, "cpu")) r.cpu = parse_cpu(*v, p + ".cpu");
  if (const json* v = member(j, "pids")) {
    expect_object(*v, p + ".pids");
    const json* limit = member(*v, "limit");
    if (!limit) fail(p + ".pids.limit", "is required");
    r.pids = PidsResources{get_i64(*limit, p + ".pids.limit")};
  }
  if (const json* v = member(j, "blockIO")) r.block_io = parse_block_io(*v, p + ".blockIO");
  if (const json* v = member(j, "hugepageLimits")) {
    const std::string hp = p + ".hugepageLimits";
    if (!v->is_array()) fail(hp, "must be an array");
    for (size_t i = 0; i < v->size(); ++i) {
      const std::string ip = hp + "[" + std::to_string(i) + "]";
      expect_object((*v)[i], ip);
      const json* size = member((*v)[i], "pageSize");
      const json* limit = member((*v)[i], "limit");
      if (!size) fail(ip + ".pageSize", "is required");
      if (!limit) fail(ip + ".limit", "is required");
      HugepageLimit h{get_string(*size, ip + ".pageSize"), get_u64(*limit, ip + ".limit")};
      // The size becomes part of a file name: keep it to what the kernel uses (2MB, 1GB).
      if (h.page_size.empty() ||
          h.page_size.find_first_not_of("0123456789KMGTPBkmgtpb") != std::string::npos)
        fail(ip + ".pageSize", "must look like 2MB or 1GB");
      r.hugepage_limits.push_back(std::move(h));
    }
  }
  if (const json* v = member(j, "devices")) r.devices = parse_devices(*v, p + ".devices");
  if (const json* v = member(j, "network")) r.network = parse_network(*v, p + ".network");
  if (const json* v = member(j, "rdma")) {
    expect_object(*v, p + ".rdma");
    for (const auto& [name, limits] : v->items()) {
      const std::string ip = p + ".rdma." + name;
      if (name.empty() || name.find_first_of(" /\n") != std::string::npos)
        fail(ip, "is not a valid device name");
      expect_object(limits, ip);
      RdmaLimit l;
      opt(limits, ip, "hcaHandles", l.hca_handles, [](const json& x, const std::string& path) {
        return static_cast<uint32_t>(get_bounded(x, path, UINT32_MAX));
      });
      opt(limits, ip, "hcaObjects", l.hca_objects, [](const json& x, const std::string& path) {
        return static_cast<uint32_t>(get_bounded(x, path, UINT32_MAX));
      });
      r.rdma[name] = l;
    }
  }
  if (const json* v = member(j, "unified")) {
    expect_object(*v, p + ".unified");
    for (const auto& [key, value] : v->items()) {
      try {
        check_unified_key(key);
      } catch (Error& e) {
        e.prepend(p + ".unified");
        throw;
      }
      r.unified[key] = get_string(value, p + ".unified." + key);
    }
  }
  return r;
}

void check_unified_key(const std::string& key) {
  // The key is joined to the cgroup directory: anything that is not a plain file name
  // of the form controller.knob could write outside the container's cgroup.
  if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos ||
      key.find('.') == std::string::npos || key.front() == '.' || key.back() == '.')
    throw Error("key " + quote(key) + ": must be a cgroup file name like memory.max", EINVAL);
}

}  // namespace urun::cgroups
