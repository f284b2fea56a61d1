// The config.json written by `urun spec [--rootless]`. It follows what
// `crun spec` emits (crun's src/libcrun/spec.c), with our hostname. The
// rootless variant, like crun's, has a "user" namespace without uidMappings or
// gidMappings: the runtime then maps the caller to 0 and its subordinate ids
// from 1 (runtime/id_maps.hpp), so the container has the full range of ids.
// It binds the host's /sys as runc's `spec --rootless` does. Unlike crun's, it has a network
// namespace with the run.urun.network annotation: urun connects it with slirp4netns.
#include <linux/magic.h>
#include <sys/statfs.h>

#include "spec/spec.hpp"
#include "version.hpp"

namespace urun::spec {
namespace {

using nlohmann::json;

// crun adds a cgroup namespace only on a cgroup v2 (unified) host: there the
// container can mount its own cgroup2 tree at /sys/fs/cgroup.
bool host_cgroup_is_unified() {
  struct statfs st {};
  if (statfs("/sys/fs/cgroup", &st) != 0) return false;
  return st.f_type == CGROUP2_SUPER_MAGIC;
}

json mount(const char* destination, const char* type, const char* source, json options) {
  json m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = std::move(options);
  return m;
}

// crun's default process: a shell as root with the three capabilities a plain shell needs,
// in every set but the inheritable one.
json default_process() {
  const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities",
       {{"bounding", caps},
        {"effective", caps},
        {"inheritable", json::array()},
        {"permitted", caps},
        {"ambient", caps}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
      {"noNewPrivileges", true},
  };
}

json default_mounts(bool rootless, bool cgroupns) {
  json devpts_options = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  // gid=5 (tty) exists in the container only when subordinate ids are mapped;
  // without them (a single-id fallback) the devpts mount would fail. crun's
  // rootless spec leaves it out too.
  if (!rootless) devpts_options.push_back("gid=5");

  json mounts = json::array();
  mounts.push_back(mount("/proc", "proc", "proc", json::array()));
  mounts.push_back(
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  mounts.push_back(mount("/dev/pts", "devpts", "devpts", std::move(devpts_options)));
  mounts.push_back(
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  if (rootless) {
    // Without its own network namespace the container may not mount sysfs
    // (the kernel ties sysfs to the netns owner), so it gets the host's /sys.
    mounts.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  } else {
    mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  }
  // A user namespace may mount cgroup2 only inside a cgroup namespace it owns;
  // without one (cgroup v1 hosts) the rootless bind of /sys already shows the
  // host's hierarchy, so the extra mount is left out rather than fail.
  if (!rootless || cgroupns)
    mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                           {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return mounts;
}

json default_namespaces(bool rootless, bool cgroupns) {
  json namespaces = json::array();
  namespaces.push_back({{"type", "pid"}});
  // The rootless container gets a network namespace of its own too, which urun connects to
  // the host with slirp4netns (the run.urun.network annotation below; network/plan.hpp).
  namespaces.push_back({{"type", "network"}});
  namespaces.push_back({{"type", "ipc"}});
  namespaces.push_back({{"type", "uts"}});
  if (rootless) namespaces.push_back({{"type", "user"}});
  if (cgroupns) namespaces.push_back({{"type", "cgroup"}});
  namespaces.push_back({{"type", "mount"}});
  return namespaces;
}

}  // namespace

nlohmann::json default_spec(bool rootless) {
  const bool cgroupns = host_cgroup_is_unified();
  json process = default_process();
  json mounts = default_mounts(rootless, cgroupns);
  json namespaces = default_namespaces(rootless, cgroupns);

  json linux = {
      {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
      {"namespaces", std::move(namespaces)},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi"}},
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
  };
  json spec = {
      {"ociVersion", kOciVersion},
      {"process", std::move(process)},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "urun"},
      {"mounts", std::move(mounts)},
      {"linux", std::move(linux)},
  };
  // Outbound network for the unprivileged user, who has no other way to connect the
  // namespace (root's containers get theirs from whoever runs them).
  if (rootless) spec["annotations"] = {{"run.urun.network", "slirp4netns"}};
  return spec;
}

}  // namespace urun::spec
