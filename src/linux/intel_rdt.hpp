#pragma once
// linux.intelRdt (runtime-spec 1.3): the pure half. Parses and checks the config object, builds
// the text written to a resctrl group's `schemata` file, and compares a wanted schema with what
// an existing group holds. The resctrl file system itself is linux/resctrl.hpp.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace urun::linux {

struct IntelRdt {
  std::optional<std::string> clos_id;  // absent: the group is named after the container
  std::optional<std::string> l3_cache_schema;
  std::optional<std::string> mem_bw_schema;
  std::vector<std::string> schemata;  // each one line of the schemata file
  bool enable_monitoring = false;
  // Whether anything is written to the group's schemata file.
  bool has_schema() const { return l3_cache_schema || mem_bw_schema || !schemata.empty(); }
  bool default_clos() const { return clos_id && *clos_id == "/"; }
};

// linux.intelRdt as typed fields, checked as runc and crun check them: closID a single path
// component (or "/", the root group), memBwSchema starting with "MB:", no value holding a
// newline where the spec forbids one (or a NUL anywhere). The 1.1-1.2 enableCMT/enableMBM
// count as enableMonitoring, which replaced them. Throws Error naming the field.
IntelRdt parse_intel_rdt(const nlohmann::json& j);

// Checks a value given to `update --l3-cache-schema / --mem-bw-schema` (`flag` names it).
void check_schema_flag(std::string_view value, std::string_view prefix, std::string_view flag);

// What is written to `schemata`, in the spec's order: l3CacheSchema, memBwSchema, then the
// schemata lines; each line ends with "\n". "" when there is nothing to write.
std::string schemata_text(const std::optional<std::string>& l3,
                          const std::optional<std::string>& mb,
                          const std::vector<std::string>& schemata = {});

// Whether the lines of an existing group's `schemata` file agree with the wanted L3 and MB
// schemas, domain by domain (order and the kernel's padding and leading zeros aside). A wanted
// schema that is absent is not compared. `mismatch` gets the first line that differs.
bool schemata_match(std::string_view existing, const std::optional<std::string>& l3,
                    const std::optional<std::string>& mb, std::string* mismatch = nullptr);

}  // namespace urun::linux
