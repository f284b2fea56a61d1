#pragma once
// The keeper process's side (helper.hpp explains the processes). Internal to src/network/.
#include <sys/types.h>

#include <string>
#include <vector>

#include "network/config.hpp"

namespace urun::network {

// The fd numbers slirp4netns gets for --exit-fd and --ready-fd.
inline constexpr int kHelperExitFd = 3;
inline constexpr int kHelperReadyFd = 4;
// Names in the container's state directory (the keeper's working directory).
inline constexpr const char* kApiSocket = "slirp4netns.sock";
inline constexpr const char* kHelperLog = "network.log";
inline constexpr const char* kPastaPidFile = "pasta.pid";

struct KeeperPlan {
  Mode mode = Mode::none;
  std::vector<std::string> argv;   // the helper's command line
  std::vector<PortMapping> ports;  // slirp4netns: published through its API socket
  int init_pidfd = -1;             // the container's init
  int report_fd = -1;              // write end of the pipe urun reads the outcome from
  int cwd_fd = -1;                 // O_PATH of the state directory
  int log_fd = -1;                 // the helper's stdout and stderr
  int null_fd = -1;                // /dev/null, for the keeper's and helper's stdin
};

// Runs in the forked keeper: never returns. Reports "ok <helper pid>\n" or "error <message>\n"
// on report_fd, then (on success) stops the helper when the init exits.
[[noreturn]] void run_keeper(const KeeperPlan& plan) noexcept;

// The report line parsed: the helper's pid, or throws Error with the keeper's message.
pid_t parse_report(const std::string& line);

}  // namespace urun::network
