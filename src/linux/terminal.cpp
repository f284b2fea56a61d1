#include "linux/terminal.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fd_passing.hpp"

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

bool bind_console(int master) {
  unsigned number = 0;
  if (::ioctl(master, TIOCGPTN, &number) < 0) throw_errno("get the pty's number");
  std::string slave = "/dev/pts/" + std::to_string(number);
  // O_NOFOLLOW and the type check: a symlink planted in the rootfs must not
  // send the mount elsewhere.
  UniqueFd target(::open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target && errno == ENOENT) {
    UniqueFd made(
        ::open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!made) {
      if (errno == EROFS || errno == EACCES || errno == EPERM) return false;
      throw_errno("create `/dev/console`");
    }
    target.reset(::open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!target) throw_errno("open `/dev/console`");
  struct stat st {};
  if (::fstat(target.get(), &st) < 0) throw_errno("stat `/dev/console`");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) return false;
  std::string on = "/proc/self/fd/" + std::to_string(target.get());
  if (::mount(slave.c_str(), on.c_str(), nullptr, MS_BIND, nullptr) < 0)
    throw_errno("bind " + quote(slave) + " on `/dev/console`");
  return true;
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
  // A session leader without a terminal acquires one with TIOCSCTTY: every
  // container process leads its own session (runtime::start_new_session).
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave, fd) < 0) throw_errno("make the terminal fd " + std::to_string(fd));
  if (::ioctl(0, TIOCSCTTY, 0) < 0) throw_errno("make the terminal the controlling terminal");
}

UniqueFd connect_console_socket(const std::string& path, int min_fd) {
  const std::string what = "connect to the console socket " + quote(path);
  if (path.empty()) throw Error(what + ": path too long", ENAMETOOLONG);
  return connect_unix_socket(path, min_fd, what);
}

void send_console_fd(int socket, int master) {
  static constexpr char kName[] = "/dev/ptmx";
  iovec iov{const_cast<char*>(kName), sizeof kName - 1};
  if (send_with_fd(socket, &iov, 1, master) < 0)
    throw_errno("send the pty master to the console socket");
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
