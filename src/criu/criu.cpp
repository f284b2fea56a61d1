#include "criu/criu.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/error.hpp"
#include "common/fd_passing.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "criu/rpc.hpp"

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
    throw Error(
        "invalid --manage-cgroups-mode " + quote(mode) + ": use soft, ignore, full or strict",
        EINVAL);
  return "--manage-cgroups=" + mode;
}

namespace {

[[noreturn]] void fail(const Invocation& inv, std::string why) {
  const std::string log_path = inv.work_dir + "/" + inv.log_name;
  try {
    if (auto from_log = log_error(fs::read_file_limited(log_path, 16 << 20)); !from_log.empty())
      why = from_log;
  } catch (const Error&) {
  }
  throw Error(inv.step + " failed: " + why + "; see the CRIU log " + quote(log_path), EIO);
}

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("wait for CRIU");
  }
  return status;
}

std::string describe_status(int status) {
  return WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                           : "killed by signal " + std::to_string(WTERMSIG(status));
}

// One message from CRIU, with the fd it may carry (the orphan pty's master).
std::string receive(int sock, UniqueFd& fd) {
  std::string buf(1 << 16, '\0');
  ssize_t n = receive_with_fd(sock, buf.data(), buf.size(), fd);
  if (n < 0) throw_errno("read from CRIU");
  if (n == 0) throw Error("CRIU closed its RPC socket", EPIPE);
  buf.resize(static_cast<size_t>(n));
  return buf;
}

void send_message(int sock, const std::string& bytes) {
  while (::send(sock, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) throw_errno("write to CRIU");
  }
}

// The swrk conversation: one request, CRIU's notifications answered, its
// final response read.
Response converse(const Invocation& inv, int sock, const std::string& request) {
  send_message(sock, request);
  for (;;) {
    UniqueFd fd;
    Response resp = parse_response(receive(sock, fd));
    if (resp.type != static_cast<int>(ReqType::notify)) return resp;
    if (resp.notify_script == "orphan-pts-master" && fd && inv.on_pty_master)
      inv.on_pty_master(fd.get());
    send_message(sock, notify_reply());
  }
}

pid_t run_rpc(const Invocation& inv) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
  UniqueFd ours(sv[0]), theirs(sv[1]);
  std::string images;
  for (size_t i = 0; i + 1 < inv.args.size(); ++i)
    if (inv.args[i] == "--images-dir") images = inv.args[i + 1];
  UniqueFd images_fd(::open(images.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!images_fd) throw_errno("open image directory " + quote(images));
  UniqueFd work_fd(::open(inv.work_dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!work_fd) throw_errno("open work directory " + quote(inv.work_dir));
  const std::string request =
      build_request(inv.action, inv.args, images_fd.get(), work_fd.get(), inv.log_name);

  Invocation child = inv;
  child.fds_to_pass.insert(child.fds_to_pass.end(), {theirs.get(), images_fd.get(), work_fd.get()});
  std::vector<std::string> words{"criu", "swrk", std::to_string(theirs.get())};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork for CRIU");
  if (pid == 0) exec_criu(child, argv.data());
  theirs.reset();
  Response resp;
  std::string broken;
  try {
    resp = converse(inv, ours.get(), request);
  } catch (const Error& e) {
    broken = e.what();
  }
  ours.reset();  // swrk exits once its socket closes
  int status = wait_exit(pid);
  if (!broken.empty()) fail(inv, broken + " (CRIU " + describe_status(status) + ")");
  if (!resp.success)
    fail(inv, resp.cr_errmsg.empty()
                  ? "CRIU reported failure (errno " + std::to_string(resp.cr_errno) + ")"
                  : resp.cr_errmsg);
  return resp.restored_pid;
}

}  // namespace

void bind_in_private_namespace(const std::string& source, const std::string& target) {
  if (::unshare(CLONE_NEWNS) < 0) throw_errno("make a mount namespace for CRIU");
  // Slave, not private: a volume or network namespace file mounted on the
  // host meanwhile still shows up for CRIU; our mounts never leave.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0)
    throw_errno("make the mounts of CRIU's namespace slaves");
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    throw_errno("bind the rootfs " + quote(source) + " on " + quote(target) + " for CRIU");
}

pid_t run(const Invocation& inv) {
  if (inv.rpc) return run_rpc(inv);
  std::vector<std::string> words{"criu",       inv.action,   "--work-dir", inv.work_dir,
                                 "--log-file", inv.log_name, "-v4"};
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
  int status = wait_exit(pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  fail(inv, describe_status(status));
}

}  // namespace urun::criu
