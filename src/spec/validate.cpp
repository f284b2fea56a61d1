// Semantic checks on a parsed Spec. parse.cpp already enforced JSON types;
// here we reject values the runtime would otherwise only trip over half-way
// through container set-up, where the error would be harder to attribute.
// Capability and rlimit *names* are deliberately not checked here: the tables
// live with the modules that apply them, and the runtime checks them there.
#include <array>
#include <set>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/log.hpp"
#include "spec/host_isolation.hpp"
#include "spec/mount_checks.hpp"
#include "spec/spec.hpp"

namespace urun::spec {
namespace {

constexpr unsigned kImplementedOciMinor = 3;

[[noreturn]] void fail(const std::string& path, std::string_view reason) {
  throw Error(path + ": " + std::string(reason));
}

std::string indexed(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

bool is_absolute(std::string_view p) { return !p.empty() && p.front() == '/'; }

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// SemVer pre-release / build identifiers: [0-9A-Za-z-] separated by dots.
bool is_semver_suffix(std::string_view s) {
  if (s.empty()) return false;
  bool previous_dot = true;
  for (char c : s) {
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
      continue;
    }
    bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
    if (!ok) return false;
    previous_dot = false;
  }
  return !previous_dot;
}

// 1.MINOR.PATCH with optional "-prerelease" and "+build"; 0 when the text is no such version,
// else MINOR + 1. The 1.x line is backward compatible, so a config written for a newer minor
// than the runtime-spec 1.3 we implement is accepted, as crun does (with a debug note).
unsigned supported_oci_minor(std::string_view v) {
  if (v.size() < 5 || v[0] != '1' || v[1] != '.') return 0;
  std::string_view rest = v.substr(2);
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return 0;
  std::string_view minor = rest.substr(0, dot);
  if (!is_digits(minor) || (minor.size() > 1 && minor[0] == '0') || minor.size() > 6) return 0;
  rest = rest.substr(dot + 1);
  size_t end = rest.find_first_of("-+");
  std::string_view patch = rest.substr(0, end);
  if (!is_digits(patch) || (patch.size() > 1 && patch[0] == '0')) return 0;
  const unsigned minor_plus_one = static_cast<unsigned>(std::stoul(std::string(minor))) + 1;
  if (end == std::string_view::npos) return minor_plus_one;
  rest = rest.substr(end);
  if (rest[0] == '-') {
    size_t plus = rest.find('+');
    if (!is_semver_suffix(rest.substr(1, plus == std::string_view::npos ? plus : plus - 1)))
      return 0;
    if (plus == std::string_view::npos) return minor_plus_one;
    rest = rest.substr(plus);
  }
  return is_semver_suffix(rest.substr(1)) ? minor_plus_one : 0;
}

void check_id_mappings(const std::vector<IdMapping>& maps, const std::string& base) {
  for (size_t i = 0; i < maps.size(); ++i)
    // A zero-sized range maps nothing; the kernel rejects the whole map write,
    // long after the error could name the entry.
    if (maps[i].size == 0) fail(indexed(base, i) + ".size", "must not be zero");
}

void check_hooks(const std::vector<Hook>& hooks, std::string_view name) {
  const std::string base = "hooks." + std::string(name);
  for (size_t i = 0; i < hooks.size(); ++i) {
    const Hook& h = hooks[i];
    if (!is_absolute(h.path))
      fail(indexed(base, i) + ".path", "must be an absolute path, got " + quote(h.path));
    if (h.timeout && *h.timeout <= 0)
      fail(indexed(base, i) + ".timeout",
           "must be greater than zero, got " + std::to_string(*h.timeout));
  }
}

void check_process(const Process& p) {
  if (p.args.empty()) fail("process.args", "must be a non-empty array");
  if (p.args[0].empty()) fail("process.args[0]", "must not be empty");
  if (!is_absolute(p.cwd)) fail("process.cwd", "must be an absolute path, got " + quote(p.cwd));
  // runtime-spec: duplicated rlimit types MUST be an error; a soft limit above
  // the hard one would fail setrlimit() inside the container with a bare EINVAL.
  std::set<std::string_view> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const Rlimit& r = p.rlimits[i];
    if (!seen.insert(r.type).second)
      fail(indexed("process.rlimits", i) + ".type", "duplicate rlimit " + quote(r.type));
    if (r.soft > r.hard)
      fail(indexed("process.rlimits", i), "soft limit " + std::to_string(r.soft) +
                                              " exceeds hard limit " + std::to_string(r.hard));
  }
}

void check_linux(const Linux& l) {
  static constexpr std::array<std::string_view, 8> kNamespaceTypes = {
      "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
  std::set<std::string_view> seen;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& ns = l.namespaces[i];
    const std::string base = indexed("linux.namespaces", i);
    bool known = false;
    for (auto t : kNamespaceTypes) known = known || t == ns.type;
    if (!known) fail(base + ".type", "unknown namespace type " + quote(ns.type));
    if (!seen.insert(ns.type).second) fail(base + ".type", "duplicate namespace " + quote(ns.type));
    if (!ns.path.empty() && !is_absolute(ns.path))
      fail(base + ".path", "must be an absolute path, got " + quote(ns.path));
  }

  // Passed to the kernel inside `context="..."` (linux/mounts/mount_label.hpp).
  if (l.mount_label.find_first_of(std::string_view("\"\n\0", 3)) != std::string::npos)
    fail("linux.mountLabel", "a double quote, newline or NUL cannot be in a mount option");
  check_id_mappings(l.uid_mappings, "linux.uidMappings");
  check_id_mappings(l.gid_mappings, "linux.gidMappings");

  for (const auto& [clock, offset] : l.time_offsets) {
    if (clock != "monotonic" && clock != "boottime")
      fail("linux.timeOffsets", "unknown clock " + quote(clock) + " (want monotonic or boottime)");
    if (offset.nanosecs >= 1000000000u)
      fail("linux.timeOffsets[\"" + clock + "\"].nanosecs", "must be below 1000000000");
  }

  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    const std::string base = indexed("linux.devices", i);
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
      fail(base + ".type", "must be one of c, b, u, p, got " + quote(d.type));
    if (!is_absolute(d.path))
      fail(base + ".path", "must be an absolute path, got " + quote(d.path));
  }

  static constexpr std::array<std::string_view, 9> kPropagations = {
      "",      "private", "rprivate",   "shared",     "rshared",
      "slave", "rslave",  "unbindable", "runbindable"};
  bool known = false;
  for (auto t : kPropagations) known = known || t == l.rootfs_propagation;
  if (!known) fail("linux.rootfsPropagation", "unknown propagation " + quote(l.rootfs_propagation));
}

}  // namespace

void validate(const Spec& spec) {
  if (spec.oci_version.empty()) fail("ociVersion", "is required");
  const unsigned minor = supported_oci_minor(spec.oci_version);
  if (minor == 0)
    fail("ociVersion", "unsupported version " + quote(spec.oci_version) + " (want 1.x.y)");
  if (minor - 1 > kImplementedOciMinor)
    log::debug("config ociVersion " + spec.oci_version +
               " is newer than the runtime-spec 1.3 urun implements; going on (1.x is backward "
               "compatible)");

  if (!spec.process) fail("process", "is required");
  check_process(*spec.process);

  if (spec.root.path.empty()) fail("root.path", "must not be empty");

  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    check_mount(spec.mounts[i], indexed("mounts", i));
  }

  check_hooks(spec.hooks.prestart, "prestart");
  check_hooks(spec.hooks.create_runtime, "createRuntime");
  check_hooks(spec.hooks.create_container, "createContainer");
  check_hooks(spec.hooks.start_container, "startContainer");
  check_hooks(spec.hooks.poststart, "poststart");
  check_hooks(spec.hooks.poststop, "poststop");

  if (spec.linux) check_linux(*spec.linux);
  // Hostname, domainname, sysctls and time offsets against the namespaces they need; sysctl
  // keys are checked there too.
  check_host_isolation(spec);
}

}  // namespace urun::spec
