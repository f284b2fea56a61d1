#pragma once
// Handing a process's pidfd to a manager: runc's `--pidfd-socket PATH` (create, run, exec) and
// crun's annotation `run.oci.pidfd_receiver=PATH`. The receiver listens on a unix stream
// socket; urun connects once and sends one message whose SCM_RIGHTS carries a pidfd of the
// container's init (payload "standard") or of the exec'd process ("setns"), as runc labels them.
// The socket is connected before the process exists, so a wrong path fails before anything is
// made; the pidfd is sent once the process is there.
#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/unique_fd.hpp"

namespace urun {

inline constexpr const char* kPidfdReceiverAnnotation = "run.oci.pidfd_receiver";

// pidfd_open(2); throws Error naming the pid.
UniqueFd open_pidfd(pid_t pid);

class PidfdReceiver {
 public:
  PidfdReceiver() = default;
  // Connects to `path` (resolved in the caller's mount namespace); the fd is close-on-exec and
  // at or above min_fd, clear of the fds passed into the container. `what` names the socket
  // in errors ("--pidfd-socket", the annotation).
  PidfdReceiver(const std::string& path, std::string what, int min_fd);
  explicit operator bool() const { return sock_.valid(); }
  // Sends a pidfd of `pid`, then closes the connection.
  void send(pid_t pid, std::string_view label);

 private:
  UniqueFd sock_;
  std::string what_;
};

}  // namespace urun
