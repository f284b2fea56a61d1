// Which namespace isolates each kernel setting a config may ask for, and the refusal of those
// the container has no namespace of its own for (the mount namespace's: root.readonly). The
// sysctl table follows the kernel (what ipc/ipc_sysctl.c, ipc/mq_sysctl.c,
// kernel/utsname_sysctl.c, net/ and kernel/ucount.c register per namespace) and agrees with runc
// and crun, which refuse the same configs.
#include "spec/host_isolation.hpp"

#include <map>

#include "common/error.hpp"
#include "spec/time_offsets.hpp"

namespace urun::spec {
namespace {

// HOST_NAME_MAX and the size of utsname's domainname: sethostname/setdomainname refuse more.
constexpr size_t kMaxUtsName = 64;

std::string sysctl_field(const std::string& key) { return "linux.sysctl[\"" + key + "\"]"; }

[[noreturn]] void fail(const std::string& field, std::string_view reason) {
  throw Error(field + ": " + std::string(reason), EINVAL);
}

// "UTS", "IPC", "network", ... as the kernel's and crun's messages name them.
std::string display_name(std::string_view type) {
  if (type == "uts" || type == "ipc") {
    std::string upper(type);
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    return upper;
  }
  return std::string(type);
}

void require_own(const Spec& spec, std::string_view type, const std::string& field,
                 std::string_view effect) {
  if (has_own_namespace(spec, type)) return;
  fail(field, "requires the container's own " + display_name(type) + " namespace (a \"" +
                  std::string(type) +
                  "\" entry in linux.namespaces, new or joined by path); without one it would " +
                  std::string(effect));
}

void check_uts_name(const Spec& spec, const std::string& value, const char* field) {
  if (value.empty()) return;
  if (value.size() > kMaxUtsName)
    fail(field, "longer than " + std::to_string(kMaxUtsName) + " bytes");
  require_own(spec, "uts", field, std::string("set the host's ") + field);
}

// kernel.hostname / kernel.domainname set the same thing as the fields of the same name: both
// given with different values, which one wins would depend on the order of the writes.
void check_uts_sysctl(const Spec& spec, const std::string& key, std::string_view path,
                      const std::string& value) {
  const bool host = path == "kernel/hostname";
  const std::string& field_value = host ? spec.hostname : spec.domainname;
  const char* field = host ? "hostname" : "domainname";
  if (!field_value.empty() && value != field_value)
    fail(sysctl_field(key), quote(value) + " contradicts " + field + " " + quote(field_value));
}

void check_sysctls(const Spec& spec) {
  if (!spec.linux) return;
  std::map<std::string, const std::string*> seen;  // path -> the key that named it
  for (const auto& [key, value] : spec.linux->sysctl) {
    const std::string field = sysctl_field(key);
    std::string path;
    try {
      path = sysctl_path(key);
    } catch (Error& e) {
      throw e.prepend(field);
    }
    auto [it, fresh] = seen.emplace(path, &key);
    if (!fresh) fail(field, "names the same sysctl as " + quote(*it->second));
    const std::string_view type = sysctl_namespace(path);
    if (type.empty())
      fail(field, "not isolated by any namespace: it would change the host's value");
    require_own(spec, type, field, "change the host's value");
    if (path == "kernel/hostname" || path == "kernel/domainname")
      check_uts_sysctl(spec, key, path, value);
  }
}

void check_time_offsets(const Spec& spec) {
  // Parsed here so that a bad run.oci.timens_offset fails before anything is made.
  const bool annotation = spec.annotation(kTimensOffsetAnnotation) != nullptr;
  if (effective_time_offsets(spec).empty()) return;
  const std::string field = annotation && (!spec.linux || spec.linux->time_offsets.empty())
                                ? std::string("annotation ") + kTimensOffsetAnnotation
                                : std::string("linux.timeOffsets");
  const Namespace* ns = spec.linux ? spec.linux->find_namespace("time") : nullptr;
  if (!ns)
    fail(field,
         "requires a time namespace (a \"time\" entry in linux.namespaces); without one "
         "the offsets would be ignored");
  // The kernel takes offsets only before a process enters the namespace.
  if (!ns->path.empty())
    fail(field, "cannot be set on a time namespace joined by path " + quote(ns->path) +
                    "; only on one the container creates");
}

}  // namespace

bool has_own_namespace(const Spec& spec, std::string_view type) {
  return spec.linux && spec.linux->find_namespace(type) != nullptr;
}

std::string sysctl_path(std::string_view key) {
  if (key.empty()) throw Error("empty sysctl key", EINVAL);
  if (key.find('\0') != std::string_view::npos) throw Error("the key holds a NUL byte", EINVAL);
  const size_t first = key.find_first_of("./");
  const bool dotted = first == std::string_view::npos || key[first] == '.';
  std::string path(key);
  if (dotted) {
    for (char& c : path) {
      if (c == '.') {
        c = '/';
      } else if (c == '/') {
        c = '.';
      }
    }
  }
  // Every component must name an entry: "", "." and ".." would either be malformed or lead
  // somewhere else than /proc/sys/<what was asked>.
  size_t start = 0;
  for (;;) {
    size_t end = path.find('/', start);
    std::string_view part = std::string_view(path).substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      throw Error("the key has an empty, `.` or `..` component", EINVAL);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return path;
}

std::string_view sysctl_namespace(std::string_view path) {
  if (path == "kernel/hostname" || path == "kernel/domainname") return "uts";
  // kernel.msg*, kernel.sem*, kernel.shm* and fs.mqueue.*: the IPC namespace's limits.
  if (path.starts_with("kernel/") && path.find('/', 7) == std::string_view::npos) {
    std::string_view name = path.substr(7);
    if (name.starts_with("msg") || name.starts_with("sem") || name.starts_with("shm")) return "ipc";
  }
  if (path.starts_with("fs/mqueue/")) return "ipc";
  if (path.starts_with("net/")) return "network";
  // The ucounts limits (user.max_*) are per user namespace.
  if (path.starts_with("user/")) return "user";
  return "";
}

void check_without_mount_namespace(const Spec& spec) {
  if (spec.root.readonly)
    fail("root.readonly",
         "requires the container's own mount namespace (a \"mount\" entry in "
         "linux.namespaces, new or joined by path, other than the runtime's); without one it "
         "would make the host's mount of the rootfs read-only");
}

void check_host_isolation(const Spec& spec) {
  check_uts_name(spec, spec.hostname, "hostname");
  check_uts_name(spec, spec.domainname, "domainname");
  check_sysctls(spec);
  check_time_offsets(spec);
  if (!has_own_namespace(spec, "mount")) check_without_mount_namespace(spec);
}

}  // namespace urun::spec
