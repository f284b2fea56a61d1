// config.json <-> spec::Spec.
//
// Parsing happens on every `create`, so it is written to be cheap: the text is
// parsed once by nlohmann, then walked once. When we own the parsed document
// (parse(), parse_file()) strings and the large raw sub-objects (seccomp can
// hold thousands of rules) are moved out of it instead of copied; from_json()
// on a caller's const document copies. The JSON path of a field is kept as a
// chain of stack frames and only turned into a string when an error is thrown.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/error.hpp"
#include "spec/json_document.hpp"
#include "spec/kernel_attrs.hpp"
#include "spec/mount_checks.hpp"
#include "spec/spec.hpp"

namespace urun::spec {
namespace {

using nlohmann::json;

// A JSON path such as `linux.uidMappings[0].size`, rendered lazily.
class Path {
 public:
  Path() = default;
  explicit Path(std::string_view key) : key_(key), kind_(key.empty() ? Kind::kRoot : Kind::kKey) {}

  // The child frames point at their parent, so they must not outlive the
  // full-expression or scope that created the parent (they never do here).
  Path operator/(std::string_view key) const { return Path(this, Kind::kKey, key, 0); }
  Path operator[](size_t index) const { return Path(this, Kind::kIndex, {}, index); }
  // Map keys can contain dots (sysctl names), so they are rendered quoted.
  Path map_key(std::string_view key) const { return Path(this, Kind::kMapKey, key, 0); }

  std::string str() const {
    std::string out;
    append_to(out);
    return out;
  }

 private:
  enum class Kind { kRoot, kKey, kIndex, kMapKey };
  Path(const Path* parent, Kind kind, std::string_view key, size_t index)
      : parent_(parent), key_(key), index_(index), kind_(kind) {}

  void append_to(std::string& out) const {
    if (parent_ != nullptr) parent_->append_to(out);
    switch (kind_) {
      case Kind::kRoot:
        break;
      case Kind::kKey:
        if (!out.empty()) out += '.';
        out += key_;
        break;
      case Kind::kIndex:
        out += '[';
        out += std::to_string(index_);
        out += ']';
        break;
      case Kind::kMapKey:
        out += "[\"";
        out += key_;
        out += "\"]";
        break;
    }
  }

  const Path* parent_ = nullptr;
  std::string_view key_;
  size_t index_ = 0;
  Kind kind_ = Kind::kRoot;
};

[[noreturn]] void fail(const Path& path, std::string_view reason) {
  std::string where = path.str();
  // The document itself: the caller names it.
  if (where.empty()) throw Error(std::string(reason), EINVAL);
  throw Error(where + ": " + std::string(reason), EINVAL);
}

// J is `json` (we own the document and may move out of it) or `const json`.
template <class J>
constexpr bool kCanMove = !std::is_const_v<J>;

// The member `key` of obj, or nullptr when it is absent or null: generators
// written in Go emit `null` for unset slices and maps, which means "absent".
template <class J>
J* member(J& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

template <class J, class F>
void optional_field(J& obj, const Path& path, std::string_view key, F&& read) {
  if (J* v = member(obj, key)) read(*v, path / key);
}

template <class J, class F>
void required_field(J& obj, const Path& path, std::string_view key, F&& read) {
  J* v = member(obj, key);
  if (v == nullptr) fail(path / key, "is required");
  read(*v, path / key);
}

template <class J>
void expect_object(J& v, const Path& path) {
  if (!v.is_object()) fail(path, "must be an object");
}

template <class J>
std::string get_string(J& v, const Path& path) {
  if (!v.is_string()) fail(path, "must be a string");
  if constexpr (kCanMove<J>) {
    return std::move(v.template get_ref<std::string&>());
  } else {
    return v.template get_ref<const std::string&>();
  }
}

template <class J>
bool get_bool(J& v, const Path& path) {
  if (!v.is_boolean()) fail(path, "must be a boolean");
  return v.template get<bool>();
}

// The parser stores non-negative literals as number_unsigned, but documents
// built in code (json{{"uid", 0}}) hold number_integer: accept both when >= 0.
template <class J>
std::optional<uint64_t> as_unsigned(J& v) {
  if (v.is_number_unsigned()) return v.template get<uint64_t>();
  if (v.is_number_integer() && v.template get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.template get<int64_t>());
  return std::nullopt;
}

template <class J>
uint64_t get_u64(J& v, const Path& path) {
  auto n = as_unsigned(v);
  if (!n) fail(path, "must be an unsigned 64-bit integer");
  return *n;
}

template <class J>
uint32_t get_u32(J& v, const Path& path) {
  auto n = as_unsigned(v);
  if (!n || *n > UINT32_MAX) fail(path, "must be an unsigned 32-bit integer");
  return static_cast<uint32_t>(*n);
}

template <class J>
int64_t get_i64(J& v, const Path& path) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.template get<int64_t>();
  if (v.is_number_unsigned() &&
      v.template get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(v.template get<uint64_t>());
  fail(path, "must be a 64-bit integer");
}

template <class J>
int get_int(J& v, const Path& path) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      if (v.template get<uint64_t>() <= static_cast<uint64_t>(INT32_MAX))
        return static_cast<int>(v.template get<uint64_t>());
    } else {
      int64_t n = v.template get<int64_t>();
      if (n >= INT32_MIN && n <= INT32_MAX) return static_cast<int>(n);
    }
  }
  fail(path, "must be a 32-bit integer");
}

// Raw sub-documents owned by other modules: only their JSON type is checked here.
template <class J>
json get_raw_object(J& v, const Path& path) {
  if (!v.is_object()) fail(path, "must be an object");
  if constexpr (kCanMove<J>) {
    return std::move(v);
  } else {
    return v;
  }
}

template <class J, class F>
void for_each_element(J& v, const Path& path, F&& read) {
  if (!v.is_array()) fail(path, "must be an array");
  size_t i = 0;
  for (auto& element : v) {
    read(element, path[i]);
    ++i;
  }
}

template <class J>
std::vector<std::string> get_strings(J& v, const Path& path) {
  std::vector<std::string> out;
  if (!v.is_array()) fail(path, "must be an array of strings");
  out.reserve(v.size());
  for_each_element(v, path, [&](auto& e, const Path& p) { out.push_back(get_string(e, p)); });
  return out;
}

template <class J>
std::map<std::string, std::string> get_string_map(J& v, const Path& path) {
  if (!v.is_object()) fail(path, "must be an object of strings");
  std::map<std::string, std::string> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    Path p = path.map_key(it.key());
    out.emplace_hint(out.end(), it.key(), get_string(it.value(), p));
  }
  return out;
}

template <class J>
IdMapping get_id_mapping(J& v, const Path& path) {
  expect_object(v, path);
  IdMapping m;
  required_field(v, path, "containerID",
                 [&](auto& x, const Path& p) { m.container_id = get_u32(x, p); });
  required_field(v, path, "hostID", [&](auto& x, const Path& p) { m.host_id = get_u32(x, p); });
  required_field(v, path, "size", [&](auto& x, const Path& p) { m.size = get_u32(x, p); });
  return m;
}

template <class J>
std::vector<IdMapping> get_id_mappings(J& v, const Path& path) {
  std::vector<IdMapping> out;
  for_each_element(v, path, [&](auto& e, const Path& p) { out.push_back(get_id_mapping(e, p)); });
  return out;
}

template <class J>
Process read_process(J& j, const Path& path) {
  expect_object(j, path);
  Process proc;
  optional_field(j, path, "terminal",
                 [&](auto& v, const Path& p) { proc.terminal = get_bool(v, p); });
  optional_field(j, path, "consoleSize", [&](auto& v, const Path& p) {
    expect_object(v, p);
    ConsoleSize size;
    required_field(v, p, "height", [&](auto& x, const Path& xp) { size.height = get_u32(x, xp); });
    required_field(v, p, "width", [&](auto& x, const Path& xp) { size.width = get_u32(x, xp); });
    proc.console_size = size;
  });
  optional_field(j, path, "user", [&](auto& v, const Path& p) {
    expect_object(v, p);
    User& u = proc.user;
    optional_field(v, p, "uid", [&](auto& x, const Path& xp) { u.uid = get_u32(x, xp); });
    optional_field(v, p, "gid", [&](auto& x, const Path& xp) { u.gid = get_u32(x, xp); });
    optional_field(v, p, "umask", [&](auto& x, const Path& xp) { u.umask = get_u32(x, xp); });
    optional_field(v, p, "additionalGids", [&](auto& x, const Path& xp) {
      for_each_element(
          x, xp, [&](auto& e, const Path& ep) { u.additional_gids.push_back(get_u32(e, ep)); });
    });
    optional_field(v, p, "username",
                   [&](auto& x, const Path& xp) { u.username = get_string(x, xp); });
  });
  optional_field(j, path, "args", [&](auto& v, const Path& p) { proc.args = get_strings(v, p); });
  optional_field(j, path, "env", [&](auto& v, const Path& p) { proc.env = get_strings(v, p); });
  optional_field(j, path, "cwd", [&](auto& v, const Path& p) { proc.cwd = get_string(v, p); });
  optional_field(j, path, "capabilities", [&](auto& v, const Path& p) {
    expect_object(v, p);
    Capabilities caps;
    optional_field(v, p, "bounding",
                   [&](auto& x, const Path& xp) { caps.bounding = get_strings(x, xp); });
    optional_field(v, p, "effective",
                   [&](auto& x, const Path& xp) { caps.effective = get_strings(x, xp); });
    optional_field(v, p, "inheritable",
                   [&](auto& x, const Path& xp) { caps.inheritable = get_strings(x, xp); });
    optional_field(v, p, "permitted",
                   [&](auto& x, const Path& xp) { caps.permitted = get_strings(x, xp); });
    optional_field(v, p, "ambient",
                   [&](auto& x, const Path& xp) { caps.ambient = get_strings(x, xp); });
    proc.capabilities = std::move(caps);
  });
  optional_field(j, path, "rlimits", [&](auto& v, const Path& p) {
    for_each_element(v, p, [&](auto& e, const Path& ep) {
      expect_object(e, ep);
      Rlimit r;
      required_field(e, ep, "type", [&](auto& x, const Path& xp) { r.type = get_string(x, xp); });
      required_field(e, ep, "hard", [&](auto& x, const Path& xp) { r.hard = get_u64(x, xp); });
      required_field(e, ep, "soft", [&](auto& x, const Path& xp) { r.soft = get_u64(x, xp); });
      proc.rlimits.push_back(std::move(r));
    });
  });
  optional_field(j, path, "noNewPrivileges",
                 [&](auto& v, const Path& p) { proc.no_new_privileges = get_bool(v, p); });
  optional_field(j, path, "apparmorProfile",
                 [&](auto& v, const Path& p) { proc.apparmor_profile = get_string(v, p); });
  optional_field(j, path, "selinuxLabel",
                 [&](auto& v, const Path& p) { proc.selinux_label = get_string(v, p); });
  optional_field(j, path, "oomScoreAdj",
                 [&](auto& v, const Path& p) { proc.oom_score_adj = get_int(v, p); });
  // Checked and resolved to the syscalls' numbers as they are read (spec/kernel_attrs.hpp).
  optional_field(j, path, "scheduler",
                 [&](auto& v, const Path& p) { proc.scheduler = read_scheduler(v, p.str()); });
  optional_field(j, path, "ioPriority",
                 [&](auto& v, const Path& p) { proc.io_priority = read_io_priority(v, p.str()); });
  optional_field(j, path, "execCPUAffinity", [&](auto& v, const Path& p) {
    proc.exec_cpu_affinity = read_exec_cpu_affinity(v, p.str());
  });
  return proc;
}

template <class J>
Mount read_mount(J& j, const Path& path) {
  expect_object(j, path);
  Mount m;
  required_field(j, path, "destination",
                 [&](auto& v, const Path& p) { m.destination = get_string(v, p); });
  optional_field(j, path, "type", [&](auto& v, const Path& p) { m.type = get_string(v, p); });
  optional_field(j, path, "source", [&](auto& v, const Path& p) { m.source = get_string(v, p); });
  optional_field(j, path, "options",
                 [&](auto& v, const Path& p) { m.options = get_strings(v, p); });
  optional_field(j, path, "uidMappings",
                 [&](auto& v, const Path& p) { m.uid_mappings = get_id_mappings(v, p); });
  optional_field(j, path, "gidMappings",
                 [&](auto& v, const Path& p) { m.gid_mappings = get_id_mappings(v, p); });
  return m;
}

template <class J>
std::vector<Hook> read_hook_list(J& v, const Path& path) {
  std::vector<Hook> out;
  for_each_element(v, path, [&](auto& e, const Path& ep) {
    expect_object(e, ep);
    Hook h;
    required_field(e, ep, "path", [&](auto& x, const Path& xp) { h.path = get_string(x, xp); });
    optional_field(e, ep, "args", [&](auto& x, const Path& xp) { h.args = get_strings(x, xp); });
    optional_field(e, ep, "env", [&](auto& x, const Path& xp) { h.env = get_strings(x, xp); });
    optional_field(e, ep, "timeout", [&](auto& x, const Path& xp) { h.timeout = get_int(x, xp); });
    out.push_back(std::move(h));
  });
  return out;
}

template <class J>
Hooks read_hooks(J& j, const Path& path) {
  expect_object(j, path);
  Hooks h;
  auto list = [&](std::string_view key, std::vector<Hook>& out) {
    optional_field(j, path, key, [&](auto& v, const Path& p) { out = read_hook_list(v, p); });
  };
  list("prestart", h.prestart);
  list("createRuntime", h.create_runtime);
  list("createContainer", h.create_container);
  list("startContainer", h.start_container);
  list("poststart", h.poststart);
  list("poststop", h.poststop);
  return h;
}

template <class J>
Linux read_linux(J& j, const Path& path) {
  expect_object(j, path);
  Linux l;
  optional_field(j, path, "namespaces", [&](auto& v, const Path& p) {
    for_each_element(v, p, [&](auto& e, const Path& ep) {
      expect_object(e, ep);
      Namespace ns;
      required_field(e, ep, "type", [&](auto& x, const Path& xp) { ns.type = get_string(x, xp); });
      optional_field(e, ep, "path", [&](auto& x, const Path& xp) { ns.path = get_string(x, xp); });
      l.namespaces.push_back(std::move(ns));
    });
  });
  optional_field(j, path, "uidMappings",
                 [&](auto& v, const Path& p) { l.uid_mappings = get_id_mappings(v, p); });
  optional_field(j, path, "gidMappings",
                 [&](auto& v, const Path& p) { l.gid_mappings = get_id_mappings(v, p); });
  optional_field(j, path, "timeOffsets", [&](auto& v, const Path& p) {
    expect_object(v, p);
    for (auto it = v.begin(); it != v.end(); ++it) {
      Path ep = p.map_key(it.key());
      auto& e = it.value();
      expect_object(e, ep);
      TimeOffset off;
      optional_field(e, ep, "secs", [&](auto& x, const Path& xp) { off.secs = get_i64(x, xp); });
      optional_field(e, ep, "nanosecs",
                     [&](auto& x, const Path& xp) { off.nanosecs = get_u32(x, xp); });
      l.time_offsets.emplace(it.key(), off);
    }
  });
  optional_field(j, path, "devices", [&](auto& v, const Path& p) {
    for_each_element(v, p, [&](auto& e, const Path& ep) {
      expect_object(e, ep);
      Device d;
      required_field(e, ep, "type", [&](auto& x, const Path& xp) { d.type = get_string(x, xp); });
      required_field(e, ep, "path", [&](auto& x, const Path& xp) { d.path = get_string(x, xp); });
      optional_field(e, ep, "major", [&](auto& x, const Path& xp) { d.major = get_i64(x, xp); });
      optional_field(e, ep, "minor", [&](auto& x, const Path& xp) { d.minor = get_i64(x, xp); });
      optional_field(e, ep, "fileMode",
                     [&](auto& x, const Path& xp) { d.file_mode = get_u32(x, xp); });
      optional_field(e, ep, "uid", [&](auto& x, const Path& xp) { d.uid = get_u32(x, xp); });
      optional_field(e, ep, "gid", [&](auto& x, const Path& xp) { d.gid = get_u32(x, xp); });
      l.devices.push_back(std::move(d));
    });
  });
  optional_field(j, path, "cgroupsPath",
                 [&](auto& v, const Path& p) { l.cgroups_path = get_string(v, p); });
  optional_field(j, path, "resources",
                 [&](auto& v, const Path& p) { l.resources = get_raw_object(v, p); });
  optional_field(j, path, "rootfsPropagation",
                 [&](auto& v, const Path& p) { l.rootfs_propagation = get_string(v, p); });
  optional_field(j, path, "maskedPaths",
                 [&](auto& v, const Path& p) { l.masked_paths = get_strings(v, p); });
  optional_field(j, path, "readonlyPaths",
                 [&](auto& v, const Path& p) { l.readonly_paths = get_strings(v, p); });
  optional_field(j, path, "sysctl",
                 [&](auto& v, const Path& p) { l.sysctl = get_string_map(v, p); });
  optional_field(j, path, "mountLabel",
                 [&](auto& v, const Path& p) { l.mount_label = get_string(v, p); });
  optional_field(j, path, "seccomp",
                 [&](auto& v, const Path& p) { l.seccomp = get_raw_object(v, p); });
  optional_field(j, path, "personality",
                 [&](auto& v, const Path& p) { l.personality = read_personality(v, p.str()); });
  optional_field(j, path, "memoryPolicy",
                 [&](auto& v, const Path& p) { l.memory_policy = read_memory_policy(v, p.str()); });
  optional_field(j, path, "intelRdt",
                 [&](auto& v, const Path& p) { l.intel_rdt = get_raw_object(v, p); });
  optional_field(j, path, "netDevices",
                 [&](auto& v, const Path& p) { l.net_devices = get_raw_object(v, p); });
  return l;
}

template <class J>
Spec read_spec(J& j) {
  const Path root;
  if (!j.is_object()) fail(root, "must be a JSON object");
  Spec s;
  optional_field(j, root, "ociVersion",
                 [&](auto& v, const Path& p) { s.oci_version = get_string(v, p); });
  optional_field(j, root, "process",
                 [&](auto& v, const Path& p) { s.process = read_process(v, p); });
  // An absent root leaves the path empty so that validate() reports it rather
  // than silently using "rootfs".
  s.root.path.clear();
  optional_field(j, root, "root", [&](auto& v, const Path& p) {
    expect_object(v, p);
    optional_field(v, p, "path", [&](auto& x, const Path& xp) { s.root.path = get_string(x, xp); });
    optional_field(v, p, "readonly",
                   [&](auto& x, const Path& xp) { s.root.readonly = get_bool(x, xp); });
  });
  optional_field(j, root, "hostname",
                 [&](auto& v, const Path& p) { s.hostname = get_string(v, p); });
  optional_field(j, root, "domainname",
                 [&](auto& v, const Path& p) { s.domainname = get_string(v, p); });
  optional_field(j, root, "mounts", [&](auto& v, const Path& p) {
    if (v.is_array()) s.mounts.reserve(v.size());
    for_each_element(v, p, [&](auto& e, const Path& ep) { s.mounts.push_back(read_mount(e, ep)); });
  });
  optional_field(j, root, "hooks", [&](auto& v, const Path& p) { s.hooks = read_hooks(v, p); });
  optional_field(j, root, "annotations",
                 [&](auto& v, const Path& p) { s.annotations = get_string_map(v, p); });
  optional_field(j, root, "linux", [&](auto& v, const Path& p) { s.linux = read_linux(v, p); });
  return s;
}

// ---- serialisation ----

}  // namespace

Spec parse(std::string_view json_text, std::string_view name) {
  try {
    json j = parse_document(json_text);
    return read_spec(j);
  } catch (Error& e) {
    e.prepend(name);
    throw;
  }
}

Spec parse_file(const std::string& path) {
  // read_document_file names the file in its own errors.
  const std::string text = read_document_file(path);
  // Same shape as crun's "load `path`: ..." so users see which file was at fault.
  return parse(text, "load " + quote(path));
}

Spec from_json(const nlohmann::json& j) { return read_spec(j); }

Process process_from_json(const nlohmann::json& j, const std::string& path_prefix) {
  return read_process(j, Path(path_prefix));
}

std::vector<Mount> mounts_from_json(const nlohmann::json& j) {
  if (!j.is_array())
    throw Error("must be an array of mounts (the config's `mounts` format)", EINVAL);
  std::vector<Mount> out;
  out.reserve(j.size());
  for_each_element(j, Path("mounts"),
                   [&](auto& e, const Path& ep) { out.push_back(read_mount(e, ep)); });
  return out;
}

}  // namespace urun::spec
