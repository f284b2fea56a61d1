#include "criu/criu.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"

namespace urun::criu {
namespace {

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The child side of run(): async-signal-safe calls only, then exec.
[[noreturn]] void exec_criu(const Invocation& inv, char* const* argv) noexcept {
  for (int fd : inv.fds_to_pass) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  if (!inv.private_bind_source.empty()) {
    // Slave, not private: mounts the host makes meanwhile (a volume, a
    // network namespace file) still show up for CRIU; ours never leave.
    if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0 ||
        ::mount(inv.private_bind_source.c_str(), inv.private_bind_target.c_str(), nullptr,
                MS_BIND | MS_REC, nullptr) < 0) {
      const char* msg = "urun: prepare the restore's root for CRIU: ";
      (void)!::write(2, msg, std::strlen(msg));
      const char* why = std::strerror(errno);
      (void)!::write(2, why, std::strlen(why));
      (void)!::write(2, "\n", 1);
      ::_exit(126);
    }
  }
  ::execv(inv.binary.c_str(), argv);
  ::_exit(127);
}

}  // namespace

std::optional<std::string> find_binary() {
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty() || dir[0] != '/') continue;  // a relative PATH entry is not trusted
    std::string candidate = dir + "/criu";
    if (is_executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

int parse_version(const std::string& text) {
  auto at = text.find("Version:");
  if (at == std::string::npos) return 0;
  int major = 0, minor = 0, sub = 0;
  if (std::sscanf(text.c_str() + at, "Version: %d.%d.%d", &major, &minor, &sub) < 2) return 0;
  return major * 10000 + minor * 100 + sub;
}

bool criu_available() {
  auto binary = find_binary();
  if (!binary) return false;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return false;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return false;
  }
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 2);
    ::execl(binary->c_str(), "criu", "--version", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  try {
    out = fs::read_fd_limited(pipefd[0], "criu --version", 4096);
  } catch (const Error&) {
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 && parse_version(out) >= kMinVersion;
}

bool has_feature(const std::string& binary, const std::string& feature) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execl(binary.c_str(), "criu", "check", "--feature", feature.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string log_error(const std::string& log_text) {
  std::stringstream lines(log_text);
  for (std::string line; std::getline(lines, line);) {
    // "(00.012345) Error (criu/mount.c:123): mnt: ..." -> "mnt: ..."
    auto at = line.find("Error (");
    if (at == std::string::npos) continue;
    auto close = line.find("): ", at);
    std::string text = close == std::string::npos ? line.substr(at) : line.substr(close + 3);
    if (text.find("RLIMIT_NOFILE") != std::string::npos) continue;
    // The first error is the cause; later ones ("Dump files (pid: 1) failed",
    // "Dumping FAILED.") report what it broke.
    return text;
  }
  return "";
}

std::string manage_cgroups_arg(const std::string& mode) {
  if (mode != "soft" && mode != "ignore" && mode != "full" && mode != "strict")
    throw Error("invalid --manage-cgroups-mode " + quote(mode) +
                    ": use soft, ignore, full or strict",
                EINVAL);
  return "--manage-cgroups=" + mode;
}

void run(const Invocation& inv) {
  std::vector<std::string> words{"criu", inv.action, "--work-dir", inv.work_dir, "--log-file",
                                 inv.log_name, "-v4"};
  words.insert(words.end(), inv.args.begin(), inv.args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  log::debug("run " + inv.binary + " " + [&] {
    std::string s;
    for (auto& w : words) s += w + " ";
    return s;
  }());

  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork for CRIU");
  if (pid == 0) exec_criu(inv, argv.data());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("wait for CRIU");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;

  const std::string log_path = inv.work_dir + "/" + inv.log_name;
  std::string why;
  try {
    why = log_error(fs::read_file_limited(log_path, 16 << 20));
  } catch (const Error&) {
  }
  if (why.empty())
    why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                            : "killed by signal " + std::to_string(WTERMSIG(status));
  throw Error(inv.step + " failed: " + why + "; see the CRIU log " + quote(log_path), EIO);
}

}  // namespace urun::criu
