// pause, resume, ps, update
#include <unistd.h>

#include <nlohmann/json.hpp>

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

// crun's update flags as a runtime-spec LinuxResources object.
nlohmann::json resources_from_flags(const std::map<std::string, std::string>& v) {
  nlohmann::json r = nlohmann::json::object();
  auto size = [&](const char* flag) {
    return container::parse_size(v.at(flag), std::string("--") + flag);
  };
  auto num = [&](const char* flag) { return to_int(v.at(flag), flag); };
  auto has = [&](const char* flag) { return v.count(flag) > 0; };
  if (has("memory")) r["memory"]["limit"] = size("memory");
  if (has("memory-reservation")) r["memory"]["reservation"] = size("memory-reservation");
  if (has("memory-swap")) r["memory"]["swap"] = size("memory-swap");
  if (has("kernel-memory")) r["memory"]["kernel"] = size("kernel-memory");
  if (has("kernel-memory-tcp")) r["memory"]["kernelTCP"] = size("kernel-memory-tcp");
  if (has("cpu-share")) r["cpu"]["shares"] = num("cpu-share");
  if (has("cpu-quota")) r["cpu"]["quota"] = num("cpu-quota");
  if (has("cpu-period")) r["cpu"]["period"] = num("cpu-period");
  // runc's: cpu.max.burst / cpu.cfs_burst_us (µs) and cpu.idle (0 or 1: SCHED_IDLE).
  if (has("cpu-burst")) r["cpu"]["burst"] = num("cpu-burst");
  if (has("cpu-idle")) r["cpu"]["idle"] = num("cpu-idle");
  if (has("cpu-rt-runtime")) r["cpu"]["realtimeRuntime"] = num("cpu-rt-runtime");
  if (has("cpu-rt-period")) r["cpu"]["realtimePeriod"] = num("cpu-rt-period");
  if (has("cpuset-cpus")) r["cpu"]["cpus"] = v.at("cpuset-cpus");
  if (has("cpuset-mems")) r["cpu"]["mems"] = v.at("cpuset-mems");
  if (has("pids-limit")) r["pids"]["limit"] = num("pids-limit");
  if (has("blkio-weight")) r["blockIO"]["weight"] = num("blkio-weight");
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

void add_cgroup_commands(CLI::App& app, Context& ctx) {
  static std::string pause_id, resume_id, ps_id, ps_format = "table";
  static UpdateFlags update;

  auto* pause = app.add_subcommand("pause", "Pause all the processes in the container");
  pause->add_option("container", pause_id, "Container id")->required();
  pause->callback([&ctx] {
    ctx.action = [&ctx] {
      in_context("pause", pause_id, [&] { container::pause(ctx.global, pause_id); });
      return 0;
    };
  });

  auto* resume = app.add_subcommand("resume", "Resume the processes in the container");
  resume->add_option("container", resume_id, "Container id")->required();
  resume->callback([&ctx] {
    ctx.action = [&ctx] {
      in_context("resume", resume_id, [&] { container::resume(ctx.global, resume_id); });
      return 0;
    };
  });

  auto* ps = app.add_subcommand("ps", "Show the processes running in a container");
  ps->add_option("-f,--format", ps_format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  ps->add_option("container", ps_id, "Container id")->required();
  ps->callback([&ctx] {
    ctx.action = [&ctx] {
      fs::write_all(STDOUT_FILENO, in_context("ps", ps_id, [&] {
                      return container::ps(ctx.global, ps_id, ps_format);
                    }));
      return 0;
    };
  });

  auto* up = app.add_subcommand("update", "Update container resource constraints");
  up->add_option("-r,--resources", update.resources_file,
                 "File with the resources to update (runtime-spec JSON; - for stdin)");
  for (const char* flag :
       {"blkio-weight", "cpu-burst", "cpu-idle", "cpu-period", "cpu-quota", "cpu-rt-period",
        "cpu-rt-runtime", "cpu-share", "cpuset-cpus", "cpuset-mems", "kernel-memory",
        "kernel-memory-tcp", "memory", "memory-reservation", "memory-swap", "pids-limit"}) {
    std::string name = flag;
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
  up->callback([&ctx] {
    ctx.action = [&ctx] {
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
    };
  });
}

}  // namespace urun::cli
