#include "runtime/process_setup.hpp"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "linux/capabilities.hpp"
#include "linux/passwd.hpp"
#include "linux/path.hpp"
#include "linux/process_attrs.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace urun::runtime {

void become_namespace_root() {
  if (::setresgid(0, 0, 0) < 0) throw_errno("setresgid to 0 in the user namespace");
  if (::setresuid(0, 0, 0) < 0) throw_errno("setresuid to 0 in the user namespace");
}

void apply_process_user(const spec::Process& proc, bool keep_groups) {
  if (proc.capabilities) linux::drop_bounding_set(*proc.capabilities);
  linux::set_user(proc.user, keep_groups);
  if (proc.no_new_privileges) linux::set_no_new_privs();
  linux::apply_capabilities(proc.capabilities ? *proc.capabilities : spec::Capabilities{});
}

namespace {

// [low, high]: close_range(2), or one close() at a time on kernels before 5.9.
void close_between(unsigned low, unsigned high) {
  if (::syscall(SYS_close_range, low, high, 0) == 0 || errno != ENOSYS) return;
  unsigned last = std::min(high, 65535u);
  for (unsigned fd = low; fd <= last; ++fd) ::close(static_cast<int>(fd));
}

}  // namespace

void close_fds_from(int first, std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned next = static_cast<unsigned>(first);
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    if (static_cast<unsigned>(fd) > next) close_between(next, static_cast<unsigned>(fd) - 1);
    next = static_cast<unsigned>(fd) + 1;
  }
  close_between(next, ~0U);
}

void enter_cwd(const std::string& cwd) {
  const std::string what = "chdir to " + quote(cwd);
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, cwd.c_str(), &how, sizeof how));
  if (fd >= 0) {
    int rc = ::fchdir(fd);
    int err = errno;
    ::close(fd);
    if (rc < 0) throw_errno(what, err);
  } else if (errno == ENOSYS || errno == EPERM) {
    // No openat2: before Linux 5.6, or denied by a seccomp filter urun itself
    // runs under (older engines' profiles answer unknown syscalls with EPERM).
    // A plain chdir then, which the check below still holds to the root.
    if (::chdir(cwd.c_str()) < 0) throw_errno(what);
  } else if (errno == ELOOP) {
    throw Error(what + ": the path goes through a /proc magic link (such as /proc/self/fd/N) " +
                    "or a symlink loop",
                ELOOP);
  } else {
    throw_errno(what);
  }
  // The raw syscall: the kernel prefixes a directory the root cannot reach with
  // "(unreachable)" (glibc would turn that into ENOENT).
  char buf[PATH_MAX];
  if (::syscall(SYS_getcwd, buf, sizeof buf) < 0) throw_errno(what + ": read back the cwd");
  if (buf[0] != '/') throw Error(what + ": the directory is outside the container's root", EPERM);
}

void create_missing_cwd(const std::string& cwd) {
  if (cwd == "/") return;
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return;  // enter_cwd() will say what is wrong
  // A non-root process user must be able to enter it, whatever umask urun was given.
  mode_t old_umask = ::umask(0);
  try {
    linux::mkdir_all_in_root(root.get(), cwd, 0755);
  } catch (const Error& e) {
    log::debug("create the cwd: " + e.message());
  }
  ::umask(old_umask);
}

void start_new_session() {
  if (::setsid() < 0) throw_errno("create a new session for the process");
}

void add_home_env(std::vector<std::string>& env, uid_t uid) {
  for (const auto& e : env)
    if (e.starts_with("HOME=")) return;
  env.push_back("HOME=" + linux::container_home(uid).value_or("/"));
}

void hand_stdio_to(const spec::User& user) {
  // Only what the caller owns is handed over: nothing to do when the process
  // user is the caller (the container's root, usually).
  const uid_t caller = ::geteuid();
  if (user.uid == caller) return;
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) continue;  // closed
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) continue;
    if (st.st_uid != caller) continue;
    if (::fchown(fd, user.uid, user.gid) < 0)
      log::debug("hand stdio fd " + std::to_string(fd) +
                 " to the process user: " + std::strerror(errno));
  }
}

void mark_fds_cloexec(int preserve_fds) {
  unsigned first = 3u + static_cast<unsigned>(preserve_fds);
  if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Old kernels: walk /proc/self/fd.
  for (int fd = static_cast<int>(first); fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

void clear_cloexec_on_preserved(int preserve_fds) {
  for (int fd = 3; fd < 3 + preserve_fds; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
}

namespace {

// The signals whose disposition is not the default (SigIgn and SigCgt of /proc/self/status, one
// bit per signal from bit 0 for signal 1); nullopt when that cannot be read. One read instead of
// a sigaction call for each of the 62 signals.
std::optional<uint64_t> signals_not_default() {
  UniqueFd fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char text[4096];
  size_t len = 0;
  for (ssize_t n;
       len < sizeof text - 1 && (n = ::read(fd.get(), text + len, sizeof text - 1 - len)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    len += static_cast<size_t>(n);
  }
  text[len] = '\0';
  uint64_t mask = 0;
  for (const char* field : {"\nSigIgn:", "\nSigCgt:"}) {
    const char* at = std::strstr(text, field);
    if (!at) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const unsigned long long bits = std::strtoull(at + std::strlen(field), &end, 16);
    if (errno != 0 || end == at + std::strlen(field)) return std::nullopt;
    mask |= bits;
  }
  return mask;
}

}  // namespace

void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const std::optional<uint64_t> not_default = signals_not_default();
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (not_default && sig <= 64 && !((*not_default >> (sig - 1)) & 1)) continue;
    ::signal(sig, SIG_DFL);
  }
}

std::string find_executable(const std::string& program, const std::vector<std::string>& env) {
  auto check = [](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      errno = EACCES;
      return false;
    }
    return ::access(path.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) {
    if (check(program)) return program;
    throw_errno("exec " + quote(program));
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env)
    if (e.starts_with("PATH=")) path = e.substr(5);
  int last_errno = ENOENT;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir;
    candidate.append("/").append(program);
    if (check(candidate)) return candidate;
    if (errno == EACCES) last_errno = EACCES;
    start = end + 1;
  }
  if (last_errno == EACCES) throw_errno("exec " + quote(program) + ": permission denied", EACCES);
  throw Error("exec " + quote(program) + ": executable file not found in $PATH", ENOENT);
}

void apply_seccomp(const linux::SeccompProgram& program, const SyncChannel& channel) {
  UniqueFd listener = linux::load_seccomp(program);
  if (listener) channel.send_fd(Msg::kSeccompListener, listener.get());
}

void exec_process(const std::string& program, const std::vector<std::string>& args,
                  const std::vector<std::string>& env) {
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(program.c_str(), argv.data(), envp.data());
  throw_errno("exec " + quote(args[0]));
}

}  // namespace urun::runtime
