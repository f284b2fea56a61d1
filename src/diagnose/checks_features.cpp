// Networking helpers for rootless containers, and the kernel and tool features some
// configs need: seccomp, id-mapped mounts, CRIU.
#include <fcntl.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "diagnose/check.hpp"
#include "userns/map_writer.hpp"

namespace urun::diagnose {
namespace {

// CAP_CHECKPOINT_RESTORE (Linux 5.9) may be missing from older headers.
constexpr cap_value_t kCapCheckpointRestore = 40;

Finding tun_finding() {
  // Opening the clone device creates nothing until TUNSETIFF: a harmless real test.
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return {"/dev/net/tun", Status::ok, "readable and writable", ""};
  }
  const int err = errno;
  Finding f{"/dev/net/tun", Status::fail,
            std::string("cannot open: ") + std::strerror(err) +
                ": slirp4netns and pasta cannot give a container a network",
            ""};
  if (err == ENOENT || err == ENODEV || err == ENXIO)
    f.fix = "sudo modprobe tun";
  else
    f.fix =
        "sudo chmod 0666 /dev/net/tun (distributions ship it 0666; a udev rule "
        "KERNEL==\"tun\", MODE=\"0666\" keeps it so)";
  return f;
}

Finding helper_finding() {
  const std::string slirp = userns::find_program("slirp4netns", std::nullopt);
  const std::string pasta = userns::find_program("pasta", std::nullopt);
  if (slirp.empty() && pasta.empty())
    return {"network helper", Status::fail,
            "neither slirp4netns nor pasta in PATH: rootless containers that ask for a network "
            "get only lo",
            "sudo apt-get install slirp4netns (or passt for pasta)"};
  std::string detail;
  if (!slirp.empty()) detail = "slirp4netns at " + slirp;
  if (!pasta.empty()) detail += (detail.empty() ? "" : ", ") + std::string("pasta at ") + pasta;
  return {"network helper", Status::ok, detail, ""};
}

Finding seccomp_finding() {
  // The kernel: prctl(PR_GET_SECCOMP) fails with EINVAL without CONFIG_SECCOMP.
  if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
    return {"seccomp", Status::fail, "the kernel has no seccomp support",
            "a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER"};
  const scmp_version* v = ::seccomp_version();
  const std::string lib = "libseccomp " + std::to_string(v->major) + "." +
                          std::to_string(v->minor) + "." + std::to_string(v->micro);
  const unsigned api = ::seccomp_api_get();
  if (api < 1)
    return {"seccomp", Status::fail, lib + ": the kernel refuses seccomp filters",
            "a kernel built with CONFIG_SECCOMP_FILTER"};
  // API level 5: user notification (SCMP_ACT_NOTIFY, run.oci.seccomp.receiver).
  if (api < 5)
    return {"seccomp", Status::warn,
            lib + ", kernel API level " + std::to_string(api) +
                ": SCMP_ACT_NOTIFY needs level 5 (Linux 5.0 or later)",
            "a newer kernel (5.0 or later)"};
  return {"seccomp", Status::ok, lib + ", kernel API level " + std::to_string(api), ""};
}

Finding idmap_finding(const Context& ctx) {
  // An invalid fd: EBADF (or EINVAL) when the syscall exists, ENOSYS before Linux 5.12.
  if (::syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0) < 0 && errno == ENOSYS)
    return {"id-mapped mounts", Status::warn,
            "the kernel has no mount_setattr (Linux 5.12): `idmap` mounts fail",
            "a newer kernel (5.12 or later)"};
  std::string detail = "the kernel supports them (mount_setattr)";
  // The runtime id-maps a host directory only with privileges over its file system.
  if (!ctx.root) detail += "; rootless, `idmap` bind mounts of host directories are refused";
  return {"id-mapped mounts", Status::ok, detail, ""};
}

Finding criu_finding(const Context& ctx) {
  const std::string criu = userns::find_program("criu", std::nullopt);
  if (criu.empty())
    return {"criu", Status::warn, "not in PATH: checkpoint and restore are unavailable",
            "sudo apt-get install criu"};
  if (!ctx.root && !file_has_capability(criu, kCapCheckpointRestore, false))
    return {"criu", Status::warn,
            criu + " lacks cap_checkpoint_restore: an unprivileged user cannot checkpoint",
            "sudo setcap cap_checkpoint_restore,cap_sys_ptrace+eip " + criu};
  return {"criu", Status::ok, criu, ""};
}

}  // namespace

void check_network(const Context&, Findings& out) {
  out.push_back(tun_finding());
  out.push_back(helper_finding());
}

void check_features(const Context& ctx, Findings& out) {
  out.push_back(seccomp_finding());
  out.push_back(idmap_finding(ctx));
  out.push_back(criu_finding(ctx));
}

}  // namespace urun::diagnose
