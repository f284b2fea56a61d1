#include "linux/intel_rdt.hpp"

#include <charconv>
#include <map>

#include "common/error.hpp"

namespace urun::linux {
namespace {

constexpr const char* kField = "linux.intelRdt";

[[noreturn]] void fail(const std::string& field, const std::string& why) {
  throw Error(std::string(kField) + "." + field + ": " + why, EINVAL);
}

std::string get_string(const nlohmann::json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_string()) fail(key, "must be a string");
  std::string s = v.get<std::string>();
  if (s.find('\0') != std::string::npos) fail(key, "holds a NUL byte");
  return s;
}

bool get_bool(const nlohmann::json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_boolean()) fail(key, "must be a boolean");
  return v.get<bool>();
}

void check_clos_id(const std::string& clos) {
  if (clos == "/") return;
  if (clos.empty()) fail("closID", "must not be empty");
  if (clos == "." || clos == ".." || clos.find('/') != std::string::npos)
    fail("closID", quote(clos) + " is not a valid resctrl group name");
  // The root group's own entries, not groups.
  if (clos == "info" || clos == "mon_groups" || clos == "mon_data")
    fail("closID", quote(clos) + " names a resctrl control file, not a group");
  if (clos.find_first_of("\n\t ") != std::string::npos)
    fail("closID", quote(clos) + " holds white space");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "L3:0=7f0;1=1f" -> {"L3", {0: 0x7f0, 1: 0x1f}}; nullopt when it is not of that form. Values
// are hexadecimal bitmasks, but MB's are decimal (percent or MBps).
struct Schema {
  std::string resource;
  std::map<unsigned, unsigned long long> domains;
};
std::optional<Schema> parse_schema(std::string_view line) {
  line = trim(line);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Schema out;
  out.resource = std::string(trim(line.substr(0, colon)));
  const int base = out.resource == "MB" ? 10 : 16;
  std::string_view rest = line.substr(colon + 1);
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view id = trim(part.substr(0, eq)), value = trim(part.substr(eq + 1));
    unsigned dom = 0;
    unsigned long long v = 0;
    auto r1 = std::from_chars(id.data(), id.data() + id.size(), dom);
    auto r2 = std::from_chars(value.data(), value.data() + value.size(), v, base);
    if (r1.ec != std::errc() || r1.ptr != id.data() + id.size() || r2.ec != std::errc() ||
        r2.ptr != value.data() + value.size())
      return std::nullopt;
    out.domains[dom] = v;
  }
  return out;
}

}  // namespace

IntelRdt parse_intel_rdt(const nlohmann::json& j) {
  if (!j.is_object()) throw Error(std::string(kField) + ": must be an object", EINVAL);
  IntelRdt rdt;
  if (j.contains("closID")) {
    rdt.clos_id = get_string(j, "closID");
    check_clos_id(*rdt.clos_id);
  }
  if (j.contains("l3CacheSchema")) {
    rdt.l3_cache_schema = get_string(j, "l3CacheSchema");
    if (rdt.l3_cache_schema->empty()) rdt.l3_cache_schema.reset();
  }
  if (j.contains("memBwSchema")) {
    rdt.mem_bw_schema = get_string(j, "memBwSchema");
    if (rdt.mem_bw_schema->empty()) {
      rdt.mem_bw_schema.reset();
    } else {
      check_schema_flag(*rdt.mem_bw_schema, "MB:", std::string(kField) + ".memBwSchema");
    }
  }
  if (j.contains("schemata")) {
    const auto& a = j.at("schemata");
    if (!a.is_array()) fail("schemata", "must be an array of strings");
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string field = "schemata[" + std::to_string(i) + "]";
      if (!a[i].is_string()) fail(field, "must be a string");
      std::string line = a[i].get<std::string>();
      if (line.find_first_of(std::string_view("\n\0", 2)) != std::string::npos)
        fail(field, "must not hold a newline or NUL byte");
      if (trim(line).empty()) fail(field, "must not be empty");
      rdt.schemata.push_back(std::move(line));
    }
  }
  for (const char* key : {"enableMonitoring", "enableCMT", "enableMBM"})
    if (j.contains(key)) rdt.enable_monitoring |= get_bool(j, key);
  return rdt;
}

void check_schema_flag(std::string_view value, std::string_view prefix, std::string_view flag) {
  const std::string what(flag);
  if (value.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos)
    throw Error(what + ": must not hold a newline or NUL byte", EINVAL);
  if (!trim(value).starts_with(prefix))
    throw Error(what + ": " + quote(std::string(value)) + " does not start with " +
                    quote(std::string(prefix)),
                EINVAL);
}

std::string schemata_text(const std::optional<std::string>& l3,
                          const std::optional<std::string>& mb,
                          const std::vector<std::string>& schemata) {
  std::string text;
  auto add = [&text](std::string_view s) {
    if (s.empty()) return;
    text += s;
    if (text.back() != '\n') text += '\n';
  };
  if (l3) add(*l3);
  if (mb) add(*mb);
  for (const auto& line : schemata) add(line);
  return text;
}

bool schemata_match(std::string_view existing, const std::optional<std::string>& l3,
                    const std::optional<std::string>& mb, std::string* mismatch) {
  // The wanted schemas by resource; l3CacheSchema may hold several lines (L3CODE and L3DATA
  // with CDP, and older configs put MB there too).
  std::map<std::string, Schema> wanted;
  for (const auto* text : {&l3, &mb}) {
    if (!*text) continue;
    std::string_view rest = **text;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (trim(line).empty()) continue;
      auto s = parse_schema(line);
      if (!s) {
        if (mismatch) *mismatch = std::string(line);
        return false;
      }
      wanted[s->resource] = *s;
    }
  }
  while (!existing.empty()) {
    size_t nl = existing.find('\n');
    std::string_view line = existing.substr(0, nl);
    existing = nl == std::string_view::npos ? std::string_view() : existing.substr(nl + 1);
    auto have = parse_schema(line);
    if (!have) continue;
    auto it = wanted.find(have->resource);
    if (it == wanted.end()) continue;
    if (it->second.domains != have->domains) {
      if (mismatch) *mismatch = std::string(trim(line));
      return false;
    }
  }
  return true;
}

}  // namespace urun::linux
