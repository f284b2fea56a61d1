#pragma once
// config.json (OCI runtime-spec 1.3) as plain structs. Absent optional fields
// are std::optional / empty containers; parse.cpp fills them, validate.cpp
// checks them and names the JSON path of each problem.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace urun::spec {

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
  bool operator==(const IdMapping&) const = default;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;  // Windows only in the spec; kept for round trips
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
};

// Each set holds names such as "CAP_CHOWN". An absent set is empty.
struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

// process.scheduler: the names as given; the numbers sched_setattr takes, resolved and checked
// by the parser (spec/kernel_attrs.hpp).
struct Scheduler {
  std::string policy;  // SCHED_OTHER ...
  std::vector<std::string> flags;
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::optional<uint64_t> runtime, deadline, period;  // nanoseconds (SCHED_DEADLINE)
  uint32_t policy_value = 0;
  uint64_t flags_value = 0;
};

// process.ioPriority.
struct IoPriority {
  std::string io_class;  // IOPRIO_CLASS_RT, _BE or _IDLE
  int32_t priority = 0;  // 0-7
  int class_value = 0;
};

// process.execCPUAffinity (exec only: runtime-spec says it does not apply to the init).
struct ExecCpuAffinity {
  std::string initial, final;                      // "0-3,7"; "" = leave it as it is
  std::vector<uint64_t> initial_mask, final_mask;  // bit i of word i/64 = CPU i
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<std::string> apparmor_profile;
  std::optional<std::string> selinux_label;
  std::optional<int> oom_score_adj;
  std::optional<Scheduler> scheduler;
  std::optional<IoPriority> io_priority;
  std::optional<ExecCpuAffinity> exec_cpu_affinity;
};

struct Root {
  std::string path = "rootfs";
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;    // "" when absent (a bind mount is recognised by its options)
  std::string source;  // "" when absent
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart;
  std::vector<Hook> create_runtime;
  std::vector<Hook> create_container;
  std::vector<Hook> start_container;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;
};

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::string path;  // "" => create a new one
};

struct Device {
  std::string type;  // "c", "u", "b" or "p"
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

// linux.personality.
struct Personality {
  std::string domain;              // LINUX or LINUX32
  std::vector<std::string> flags;  // runtime-spec 1.3 defines none: any is refused
  unsigned long value = 0;         // PER_LINUX / PER_LINUX32
};

// linux.memoryPolicy (set_mempolicy).
struct MemoryPolicy {
  std::string mode;   // MPOL_BIND ...
  std::string nodes;  // "0-3,7"
  std::vector<std::string> flags;
  int mode_value = 0;               // the mode with the flags or'ed in
  std::vector<uint64_t> node_mask;  // bit i of word i/64 = node i; empty = no nodes
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::optional<std::string> cgroups_path;
  nlohmann::json resources;        // null when absent; typed by the cgroups module
  std::string rootfs_propagation;  // "" | private | shared | slave | unbindable
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::string mount_label;
  nlohmann::json seccomp;  // null when absent; compiled by the seccomp module
  std::optional<Personality> personality;
  std::optional<MemoryPolicy> memory_policy;
  nlohmann::json intel_rdt;
  nlohmann::json net_devices;  // null when absent; typed by linux/net_devices.hpp

  const Namespace* find_namespace(std::string_view type) const {
    for (const auto& ns : namespaces)
      if (ns.type == type) return &ns;
    return nullptr;
  }
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;

  // Annotation value or nullptr.
  const std::string* annotation(const std::string& key) const {
    auto it = annotations.find(key);
    return it == annotations.end() ? nullptr : &it->second;
  }
};

// Parsing and serialising (parse.cpp). parse() throws urun::Error naming the
// document (`name`) and the JSON path of the first problem ("config.json:
// process.args: must be a non-empty array") or, for malformed JSON, the line
// and column (spec/json_document.hpp). parse_file() reads the file as
// read_document_file() does: a regular file of bounded size.
Spec parse(std::string_view json_text, std::string_view name = "config.json");
Spec parse_file(const std::string& path);
Spec from_json(const nlohmann::json& j);
nlohmann::json to_json(const Spec& spec);
// A process object alone (exec --process FILE).
Process process_from_json(const nlohmann::json& j, const std::string& path_prefix = "process");
nlohmann::json process_to_json(const Process& p);

// Semantic checks beyond types (validate.cpp): ociVersion 1.x.y (above 1.3 with a debug note),
// required fields, namespace types, duplicate namespaces, absolute mount
// destinations, hook paths absolute, known rlimit and capability names.
void validate(const Spec& spec);

// The config `urun spec` writes (default_spec.cpp). Rootless: adds a user
// namespace without mappings, as crun does (the runtime maps the caller to 0
// and its subordinate ids from 1), drops the network namespace and binds /sys
// instead of mounting sysfs.
nlohmann::json default_spec(bool rootless);

}  // namespace urun::spec
