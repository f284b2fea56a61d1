#include "common/pidfd.hpp"

#include <sys/syscall.h>

#include "common/error.hpp"
#include "common/fd_passing.hpp"

namespace urun {

UniqueFd open_pidfd(pid_t pid) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) {
    if (errno == ESRCH)
      throw Error("open a pidfd of process " + std::to_string(pid) + ": it has already exited",
                  ESRCH);
    throw_errno("open a pidfd of process " + std::to_string(pid));
  }
  return fd;
}

PidfdReceiver::PidfdReceiver(const std::string& path, std::string what, int min_fd)
    : what_(std::move(what)) {
  const std::string context = "connect to " + what_ + " " + quote(path);
  if (path.empty()) throw Error(context + ": empty path", EINVAL);
  sock_ = connect_unix_socket(path, min_fd, context);
}

void PidfdReceiver::send(pid_t pid, std::string_view label) {
  if (!sock_) return;
  UniqueFd pidfd = open_pidfd(pid);
  iovec iov{const_cast<char*>(label.data()), label.size()};
  if (send_with_fd(sock_.get(), &iov, 1, pidfd.get()) < 0)
    throw_errno("send the pidfd of process " + std::to_string(pid) + " to " + what_);
  sock_.reset();
}

}  // namespace urun
