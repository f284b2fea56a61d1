#include "network/helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstring>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "network/keeper.hpp"
#include "state/store.hpp"

namespace urun::network {
namespace {

// Longer than the keeper's own time-outs (keeper.cpp): it always reports first.
constexpr int kReportTimeoutMs = 30000;

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// The keeper's one report line, or "" when it ended (or timed out) without one.
std::string read_report(int fd) {
  std::string line;
  pollfd pfd{fd, POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReportTimeoutMs);
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return "";
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, n);
  }
  if (size_t nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  return line;
}

// Waits until the process behind pidfd has exited, up to timeout.
void wait_gone(int pidfd, std::chrono::milliseconds timeout) {
  pollfd pfd{pidfd, POLLIN, 0};
  while (::poll(&pfd, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
  }
}

UniqueFd open_checked(int dir_fd, const char* name, int flags, const char* what) {
  UniqueFd fd(::openat(dir_fd, name, flags | O_CLOEXEC, 0600));
  if (!fd) throw_errno(what);
  return fd;
}

}  // namespace

Helper Helper::start(const NetworkPlan& plan, pid_t init_pid, int state_dir_fd,
                     const std::string& state_dir) {
  const char* name = to_string(plan.config.mode);
  try {
    KeeperPlan k;
    k.mode = plan.config.mode;
    k.ports = plan.config.ports;
    if (k.mode == Mode::slirp4netns) {
      k.argv = slirp4netns_args(plan.program, plan.config, init_pid, kHelperExitFd, kHelperReadyFd,
                                kApiSocket);
    } else {
      // pasta changes its working directory when it goes to the background: absolute path.
      std::string dir = state_dir;
      if (!dir.starts_with('/')) {
        char cwd[PATH_MAX];
        if (!::getcwd(cwd, sizeof cwd)) throw_errno("get the working directory");
        dir = std::string(cwd) + "/" + dir;
      }
      k.argv = pasta_args(plan.program, plan.config, init_pid, dir + "/" + kPastaPidFile, "");
    }
    // Opened here, where the init is still our child and its pid cannot be reused.
    UniqueFd init_fd(pidfd_open(init_pid));
    if (!init_fd) throw_errno("open a pidfd of the container's init");
    // A new open file description: a dup of state_dir_fd would share (and so hold) its flock.
    UniqueFd cwd =
        open_checked(state_dir_fd, ".", O_PATH | O_DIRECTORY, "open the state directory");
    UniqueFd log = open_checked(state_dir_fd, kHelperLog, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                                "create its log");
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) throw_errno("open `/dev/null`");
    int report[2];
    if (::pipe2(report, O_CLOEXEC) < 0) throw_errno("make a pipe");
    UniqueFd report_r(report[0]), report_w(report[1]);
    k.init_pidfd = init_fd.get();
    k.report_fd = report_w.get();
    k.cwd_fd = cwd.get();
    k.log_fd = log.get();
    k.null_fd = null.get();

    pid_t keeper = ::fork();
    if (keeper < 0) throw_errno("fork");
    if (keeper == 0) run_keeper(k);
    Helper h;
    h.keeper_pid_ = keeper;  // from here the destructor stops it
    h.keeper_start_ = state::process_start_time(keeper);
    report_w.reset();
    h.helper_pid_ = parse_report(read_report(report_r.get()));
    h.helper_start_ = state::process_start_time(h.helper_pid_);
    h.annotations_[kPidAnnotation] = std::to_string(h.helper_pid_);
    if (k.mode == Mode::slirp4netns) {
      SlirpAddresses a = slirp_addresses(plan.config.options.cidr);
      h.annotations_[kAddressAnnotation] = a.guest + "/" + std::to_string(a.prefix);
      h.annotations_[kGatewayAnnotation] = a.gateway;
      h.annotations_[kDnsAnnotation] = a.dns;
    }
    if (log::enabled(log::Level::debug))
      log::debug(std::string("network: ") + name + " pid " + std::to_string(h.helper_pid_) +
                 ", keeper pid " + std::to_string(keeper));
    return h;
  } catch (Error& e) {
    throw e.prepend(std::string("start ") + name);
  }
}

Helper::Helper(Helper&& o) noexcept
    : keeper_pid_(std::exchange(o.keeper_pid_, -1)),
      helper_pid_(std::exchange(o.helper_pid_, -1)),
      keeper_start_(o.keeper_start_),
      helper_start_(o.helper_start_),
      annotations_(std::move(o.annotations_)) {}

Helper::~Helper() {
  if (keeper_pid_ <= 0) return;
  int saved = errno;
  // The helper first (by its pidfd, so a reused pid is never hit), then the keeper, our child.
  if (helper_pid_ > 0) stop_helpers({helper_pid_}, {helper_start_});
  ::kill(keeper_pid_, SIGKILL);
  while (::waitpid(keeper_pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  errno = saved;
}

void stop_helpers(const std::vector<pid_t>& pids, const std::vector<uint64_t>& starts) noexcept {
  std::vector<UniqueFd> killed;
  for (size_t i = 0; i < pids.size(); ++i) {
    if (pids[i] <= 0) continue;
    UniqueFd fd(pidfd_open(pids[i]));
    if (!fd) continue;  // gone
    // Checked after the pidfd pins the process: it is the one recorded, not a reuse of its pid.
    const uint64_t start = i < starts.size() ? starts[i] : 0;
    if (!state::process_alive(pids[i], start)) continue;
    if (::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0) < 0) {
      log::debug("network: kill helper " + std::to_string(pids[i]) + ": " + std::strerror(errno));
      continue;
    }
    killed.push_back(std::move(fd));
  }
  for (const UniqueFd& fd : killed) wait_gone(fd.get(), std::chrono::milliseconds(3000));
}

}  // namespace urun::network
