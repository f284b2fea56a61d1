// User namespaces: the switches distributions use to restrict them, and a real attempt.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/fs.hpp"
#include "diagnose/check.hpp"

namespace urun::diagnose {
namespace {

// The value of a sysctl under /proc/sys, or nullopt when this kernel has no such file.
std::optional<long> read_sysctl(const std::string& name) {
  std::string path = "/proc/sys/" + name;
  for (char& c : path)
    if (c == '.') c = '/';
  try {
    return std::stol(fs::read_file(path));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// A sysctl set now and at every boot.
std::string sysctl_fix(const std::string& name, const std::string& value) {
  return "echo '" + name + " = " + value + "' | sudo tee /etc/sysctl.d/90-urun-" + name +
         ".conf && sudo sysctl -w " + name + "=" + value;
}

// An AppArmor profile that gives urun user namespaces (Ubuntu 23.10 and later).
std::string apparmor_fix() {
  std::string self = "/usr/local/bin/urun";
  try {
    self = fs::real_path("/proc/self/exe");
  } catch (const std::exception&) {
  }
  return "printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile urun " + self +
         " flags=(unconfined) {\\n  userns,\\n}\\n' | sudo tee /etc/apparmor.d/urun && "
         "sudo apparmor_parser -r /etc/apparmor.d/urun";
}

bool write_proc(const char* file, const std::string& text) {
  int fd = ::open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// In a child: a user namespace of its own, its own id mapped, then a mount namespace,
// which needs CAP_SYS_ADMIN in the new namespace (what an LSM restriction takes away).
// Returns 0, or the errno of the step that failed; the step in `step`.
int try_user_namespace(uid_t uid, gid_t gid, std::string& step) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return errno;
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return err;
  }
  if (pid == 0) {
    ::close(fds[0]);
    unsigned char report[2] = {0, 0};  // step, errno
    if (::unshare(CLONE_NEWUSER) < 0) {
      report[0] = 1;
    } else if (!write_proc("/proc/self/setgroups", "deny") ||
               !write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
               !write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n")) {
      report[0] = 2;
    } else if (::unshare(CLONE_NEWNS) < 0) {
      report[0] = 3;
    }
    report[1] = static_cast<unsigned char>(report[0] ? errno : 0);
    (void)!::write(fds[1], report, sizeof report);
    ::_exit(0);
  }
  ::close(fds[1]);
  unsigned char report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(fds[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != 2) {
    step = "test process";
    return ECHILD;
  }
  static const char* const kSteps[] = {"", "unshare(CLONE_NEWUSER)", "write its id maps",
                                       "unshare(CLONE_NEWNS) in it"};
  step = kSteps[report[0] < 4 ? report[0] : 0];
  return report[1];
}

void sysctl_findings(const Context& ctx, Findings& out) {
  // Debian and Ubuntu kernels before 6.1/24.04: 0 keeps unprivileged users out.
  if (auto v = read_sysctl("kernel.unprivileged_userns_clone"); v && !ctx.root) {
    if (*v == 0)
      out.push_back({"kernel.unprivileged_userns_clone", Status::fail,
                     "0: unprivileged users may not create user namespaces",
                     sysctl_fix("kernel.unprivileged_userns_clone", "1")});
    else
      out.push_back({"kernel.unprivileged_userns_clone", Status::ok, std::to_string(*v), ""});
  }
  if (auto v = read_sysctl("user.max_user_namespaces")) {
    // Every container takes one; a handful leaves no room for nesting or many containers.
    if (*v == 0)
      out.push_back({"user.max_user_namespaces", Status::fail,
                     "0: no user namespaces may be created",
                     sysctl_fix("user.max_user_namespaces", "28633")});
    else if (*v < 1000)
      out.push_back({"user.max_user_namespaces", Status::warn,
                     std::to_string(*v) + ": few containers can run at once",
                     sysctl_fix("user.max_user_namespaces", "28633")});
    else
      out.push_back({"user.max_user_namespaces", Status::ok, std::to_string(*v), ""});
  }
  // Ubuntu 23.10 and later: user namespaces without capabilities, unless a profile allows.
  if (auto v = read_sysctl("kernel.apparmor_restrict_unprivileged_userns"); v && !ctx.root) {
    out.push_back({"kernel.apparmor_restrict_unprivileged_userns", *v ? Status::warn : Status::ok,
                   *v ? "1: AppArmor allows user namespaces only to programs with a profile "
                        "that says `userns` (see the `user namespaces` line)"
                      : "0",
                   *v ? apparmor_fix() : ""});
  }
}

}  // namespace

void check_user_namespaces(const Context& ctx, Findings& out) {
  sysctl_findings(ctx, out);
  std::string step;
  const int err = try_user_namespace(ctx.uid, ctx.gid, step);
  if (err == 0) {
    out.push_back({"user namespaces", Status::ok,
                   "a user namespace with its own mount namespace was created", ""});
    return;
  }
  Finding f{"user namespaces", Status::fail, step + ": " + std::strerror(err), ""};
  auto clone_switch = read_sysctl("kernel.unprivileged_userns_clone");
  auto max_ns = read_sysctl("user.max_user_namespaces");
  auto apparmor = read_sysctl("kernel.apparmor_restrict_unprivileged_userns");
  if ((err == ENOSPC || err == EUSERS) && max_ns)
    f.fix = sysctl_fix("user.max_user_namespaces", "28633");
  else if (err == EPERM && clone_switch && *clone_switch == 0 && !ctx.root)
    f.fix = sysctl_fix("kernel.unprivileged_userns_clone", "1");
  else if (apparmor && *apparmor && !ctx.root)
    f.fix = apparmor_fix();
  else
    f.fix =
        "run urun where user namespaces are allowed (a container's seccomp profile or a "
        "sandbox may forbid unshare; `unshare --user --map-root-user true` shows the same)";
  out.push_back(std::move(f));
}

}  // namespace urun::diagnose
