#include "linux/terminal.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace urun::linux {

Pty open_pty() {
  Pty pty;
  // The path, not posix_openpt(): in the container's mount namespace it names
  // the container's devpts (/dev/ptmx -> pts/ptmx), so the slave is a
  // /dev/pts/N of the container, never one of the host's.
  pty.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) throw_errno("open `/dev/ptmx`");
  int unlock = 0;
  if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) < 0) throw_errno("unlock the pty");
  // TIOCGPTPEER opens the slave of this very master, with no path lookup
  // that a process in the container could race.
  pty.slave.reset(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (pty.slave) return pty;
  if (errno != EINVAL && errno != ENOTTY) throw_errno("open the pty's slave");
  // Kernels before 4.13: by number, in the same devpts.
  unsigned number = 0;
  if (::ioctl(pty.master.get(), TIOCGPTN, &number) < 0) throw_errno("get the pty's number");
  std::string path = "/dev/pts/" + std::to_string(number);
  pty.slave.reset(::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) throw_errno("open " + quote(path));
  return pty;
}

void set_window_size(int fd, WindowSize size) {
  if (size.rows == 0 && size.cols == 0) return;
  winsize ws{};
  ws.ws_row = size.rows;
  ws.ws_col = size.cols;
  if (::ioctl(fd, TIOCSWINSZ, &ws) < 0) throw_errno("set the terminal's window size");
}

std::optional<WindowSize> window_size(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) < 0) return std::nullopt;
  return WindowSize{ws.ws_row, ws.ws_col};
}

void make_controlling_terminal(int slave) {
  // A session leader without a terminal acquires one with TIOCSCTTY.
  if (::setsid() < 0) throw_errno("create a new session for the terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave, fd) < 0) throw_errno("make the terminal fd " + std::to_string(fd));
  if (::ioctl(0, TIOCSCTTY, 0) < 0) throw_errno("make the terminal the controlling terminal");
}

UniqueFd connect_console_socket(const std::string& path) {
  const std::string what = "connect to the console socket " + quote(path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw Error(what + ": path too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno(what);
  int r;
  do {
    r = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) throw_errno(what);
  return sock;
}

void send_console_fd(int socket, int master) {
  static constexpr char kName[] = "/dev/ptmx";
  iovec iov{const_cast<char*>(kName), sizeof kName - 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &master, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("send the pty master to the console socket");
}

RawMode::RawMode(int fd) : fd_(fd) {
  if (!::isatty(fd) || ::tcgetattr(fd, &saved_) < 0) return;
  termios raw = saved_;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSANOW, &raw) < 0) throw_errno("put the terminal in raw mode");
  active_ = true;
}

RawMode::~RawMode() {
  if (!active_) return;
  int saved = errno;
  // TCSADRAIN: what the container wrote last reaches the screen first.
  ::tcsetattr(fd_, TCSADRAIN, &saved_);
  errno = saved;
}

}  // namespace urun::linux
