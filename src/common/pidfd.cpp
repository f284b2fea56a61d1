#include "common/pidfd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <cstring>

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
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty()) throw Error(context + ": empty path", EINVAL);
  if (path.size() >= sizeof addr.sun_path) throw Error(context + ": path too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno(context);
  int r;
  do {
    r = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) throw_errno(context);
  if (sock.get() < min_fd) {
    sock.reset(::fcntl(sock.get(), F_DUPFD_CLOEXEC, min_fd));
    if (!sock) throw_errno(context);
  }
  sock_ = std::move(sock);
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
