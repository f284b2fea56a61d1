#include "container/features.hpp"

#include <seccomp.h>

#include "cgroups/systemd/systemd_library.hpp"
#include "common/error.hpp"
#include "criu/criu.hpp"
#include "linux/capabilities.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/namespaces.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "spec/kernel_attrs.hpp"
#include "version.hpp"

namespace urun::container {
namespace {

// runtime-spec 1.3 is the newest version whose configs urun reads (spec/validate.cpp).
constexpr const char* kOciVersionMin = "1.0.0";
constexpr const char* kOciVersionMax = "1.3.0";

// The lifecycle stages container/hooks.cpp runs, in the spec's order (parsed by
// spec/parse.cpp read_hooks).
constexpr const char* kHooks[] = {"prestart",       "createRuntime", "createContainer",
                                  "startContainer", "poststart",     "poststop"};

// Annotations that change what urun does to a container (a higher-level tool should not let
// an untrusted user set them): every run.oci.* of the manual (keep_original_groups,
// seccomp_*, hooks.*, systemd.*, delegate-cgroup, timens_offset, pidfd_receiver...), and the
// two crun lists beside them.
constexpr const char* kUnsafeAnnotations[] = {"module.wasm.image/variant",
                                              "io.kubernetes.cri.container-type", "run.oci."};

// libsystemd is loaded on demand (cgroups/systemd/systemd_library.hpp): the systemd cgroup manager
// works only where it loads.
bool systemd_usable() {
  try {
    cgroups::systemd::library();
    return true;
  } catch (const Error&) {
    return false;
  }
}

nlohmann::ordered_json linux_features() {
  nlohmann::ordered_json l;
  l["namespaces"] = nlohmann::ordered_json::array();
  for (auto ns : linux::namespace_types()) l["namespaces"].push_back(std::string(ns));
  l["capabilities"] = linux::known_capability_names();
  // cgroupfs v1 and v2 (cgroups/cgroupfs/cgroupfs_v1.cpp, cgroupfs_v2.cpp), the systemd manager on
  // the system bus and, rootless, on the user's bus (cgroups/systemd/systemd_manager.cpp); rdma.max
  // on both.
  const bool systemd = systemd_usable();
  l["cgroup"] = {
      {"v1", true}, {"v2", true}, {"systemd", systemd}, {"systemdUser", systemd}, {"rdma", true}};
  l["seccomp"] = linux::seccomp_features();
  // Labels are written when the host runs the module and ignored otherwise, as by crun
  // (linux/lsm.hpp): the support is always there.
  l["apparmor"] = {{"enabled", true}};
  l["selinux"] = {{"enabled", true}};
  // Mount-level uidMappings/gidMappings (runtime/idmapped_mounts.cpp): runtime-spec's "idmap"
  // mount extension; the `idmap` option alone, with the container's mapping, is not it.
  l["mountExtensions"]["idmap"]["enabled"] = true;
  // linux.intelRdt through resctrl (linux/resctrl.cpp: closID, schemata, l3CacheSchema,
  // memBwSchema, enableMonitoring) and linux.netDevices (linux/net_devices.cpp).
  l["intelRdt"] = {{"enabled", true}, {"schemata", true}, {"monitoring", true}};
  l["netDevices"] = {{"enabled", true}};
  // linux.memoryPolicy: the names spec/kernel_attrs.cpp parses. (process.scheduler,
  // process.ioPriority and linux.personality have no features entry in runtime-spec 1.3.)
  l["memoryPolicy"] = {{"modes", spec::memory_policy_mode_names()},
                       {"flags", spec::memory_policy_flag_names()}};
  return l;
}

}  // namespace

nlohmann::ordered_json features() {
  nlohmann::ordered_json f;
  f["ociVersionMin"] = kOciVersionMin;
  f["ociVersionMax"] = kOciVersionMax;
  f["hooks"] = kHooks;
  f["mountOptions"] = linux::known_mount_options();
  f["linux"] = linux_features();
  const scmp_version* v = seccomp_version();
  f["annotations"] = {
      {"io.github.seccomp.libseccomp.version",
       std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro)},
      {"io.github.urun.version", kVersion},
      {"io.github.urun.commit", kGitCommit}};
  f["potentiallyUnsafeConfigAnnotations"] = kUnsafeAnnotations;
  // checkpoint/restore (criu/criu.cpp), announced as runc and crun do, when a usable CRIU is
  // installed; CRIU's own annotations then change what a restore does.
  if (criu::criu_available()) {
    f["annotations"]["org.opencontainers.runc.checkpoint.enabled"] = "true";
    f["annotations"]["run.oci.crun.checkpoint.enabled"] = "true";
    f["potentiallyUnsafeConfigAnnotations"].push_back("org.criu.");
  }
  return f;
}

std::string version_tags() {
  // SELinux and AppArmor labels, libcap, libseccomp and the cgroup v2 device program (eBPF)
  // are always built in; systemd only works where libsystemd loads.
  std::string tags;
  if (systemd_usable()) tags += "+SYSTEMD ";
  tags += "+SELINUX +APPARMOR +CAP +SECCOMP +EBPF ";
  if (criu::criu_available()) tags += "+CRIU ";
  tags += "+USERNS";
  return tags;
}

}  // namespace urun::container
