// update
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/cli.hpp"
#include "common/fs.hpp"
#include "spec/json_document.hpp"

namespace urun::cli {
namespace {

struct UpdateFlags {
  std::string id, resources_file;
  // Flag name -> value as typed; only given flags are put into the JSON.
  std::map<std::string, std::string> values;
};

int64_t to_int(const std::string& text, const std::string& flag) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw Error("--" + flag + ": invalid number " + quote(text), EINVAL);
  return v;
}

// How each update flag fills the runtime-spec LinuxResources object.
struct FlagField {
  const char* flag;
  const char* group;  // "memory", "cpu", ...
  const char* field;  // in the group
  enum Kind { size, number, text } kind;
};

constexpr FlagField kFlagFields[] = {
    {"memory", "memory", "limit", FlagField::size},
    {"memory-reservation", "memory", "reservation", FlagField::size},
    {"memory-swap", "memory", "swap", FlagField::size},
    {"kernel-memory", "memory", "kernel", FlagField::size},
    {"kernel-memory-tcp", "memory", "kernelTCP", FlagField::size},
    {"cpu-share", "cpu", "shares", FlagField::number},
    {"cpu-quota", "cpu", "quota", FlagField::number},
    {"cpu-period", "cpu", "period", FlagField::number},
    // runc's: cpu.max.burst / cpu.cfs_burst_us (µs) and cpu.idle (0 or 1: SCHED_IDLE).
    {"cpu-burst", "cpu", "burst", FlagField::number},
    {"cpu-idle", "cpu", "idle", FlagField::number},
    {"cpu-rt-runtime", "cpu", "realtimeRuntime", FlagField::number},
    {"cpu-rt-period", "cpu", "realtimePeriod", FlagField::number},
    {"cpuset-cpus", "cpu", "cpus", FlagField::text},
    {"cpuset-mems", "cpu", "mems", FlagField::text},
    {"pids-limit", "pids", "limit", FlagField::number},
    {"blkio-weight", "blockIO", "weight", FlagField::number},
};

// crun's update flags as a runtime-spec LinuxResources object.
nlohmann::json resources_from_flags(const std::map<std::string, std::string>& values) {
  nlohmann::json r = nlohmann::json::object();
  for (const FlagField& f : kFlagFields) {
    auto given = values.find(f.flag);
    if (given == values.end()) continue;
    const std::string& v = given->second;
    nlohmann::json& slot = r[f.group][f.field];
    if (f.kind == FlagField::size)
      slot = container::parse_size(v, std::string("--") + f.flag);
    else if (f.kind == FlagField::number)
      slot = to_int(v, f.flag);
    else
      slot = v;
  }
  return r;
}

// Bounded like every JSON document urun reads. A stream is fine here (stdin, a pipe, a FIFO: it
// waits for the writer), as with crun.
std::string read_resources(const std::string& file) {
  if (file == "-")
    return fs::read_fd_limited(STDIN_FILENO, "standard input", spec::kMaxDocumentBytes);
  return fs::read_file_limited(file, spec::kMaxDocumentBytes);
}

}  // namespace

void add_update_command(CLI::App& app, Context& ctx) {
  static UpdateFlags update;

  auto* up = app.add_subcommand("update", "Update container resource constraints");
  up->add_option("-r,--resources", update.resources_file,
                 "File with the resources to update (runtime-spec JSON; - for stdin)");
  // Listed by --help in alphabetical order, as crun lists them.
  std::vector<std::string> names;
  for (const FlagField& field : kFlagFields) names.emplace_back(field.flag);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    up->add_option_function<std::string>(
        "--" + name, [name](const std::string& value) { update.values[name] = value; },
        "See the manual");
  }
  // Intel RDT (resctrl), not cgroup resources: applied on their own after those.
  static std::optional<std::string> l3_cache_schema, mem_bw_schema;
  up->add_option_function<std::string>(
      "--l3-cache-schema", [](const std::string& v) { l3_cache_schema = v; },
      "Intel RDT/CAT L3 cache schema (resctrl)");
  up->add_option_function<std::string>(
      "--mem-bw-schema", [](const std::string& v) { mem_bw_schema = v; },
      "Intel RDT/MBA memory bandwidth schema (resctrl)");
  up->add_option("container", update.id, "Container id")->required();
  set_action(up, ctx, [&ctx] {
    in_context("update", update.id, [&] {
      const bool rdt = l3_cache_schema || mem_bw_schema;
      if (!rdt || !update.resources_file.empty() || !update.values.empty()) {
        std::string json = !update.resources_file.empty()
                               ? read_resources(update.resources_file)
                               : resources_from_flags(update.values).dump();
        container::update(ctx.global, update.id, json);
      }
      if (rdt) container::update_intel_rdt(ctx.global, update.id, l3_cache_schema, mem_bw_schema);
    });
    return 0;
  });
}

}  // namespace urun::cli
