#include "fd_receiver.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace urun_test {

Received receive_fds(int sock, size_t max_payload) {
  Received out;
  std::string data(max_payload, '\0');
  iovec iov{data.data(), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  do {
    out.bytes = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (out.bytes < 0 && errno == EINTR);
  if (out.bytes < 0) return out;
  out.payload.assign(data.data(), static_cast<size_t>(out.bytes));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.push_back(fd);
    }
  }
  return out;
}

FdListener::FdListener(std::string path) : path_(std::move(path)) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd_, 4) != 0) {
    const std::string why = strerror(errno);
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("unix socket " + path_ + ": " + why);
  }
  ::chmod(path_.c_str(), 0777);
}

FdListener::~FdListener() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

Received FdListener::accept_and_receive(std::chrono::milliseconds timeout, size_t max_payload) {
  const int ms = static_cast<int>(timeout.count());
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1) return {};
  int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return {};
  pollfd q{conn, POLLIN, 0};
  Received out;
  if (::poll(&q, 1, ms) == 1) out = receive_fds(conn, max_payload);
  ::close(conn);
  return out;
}

}  // namespace urun_test
