#pragma once
// Pseudo-terminals for `process.terminal`: the container's side (a pty opened
// through the container's own /dev/ptmx, made the process's stdio and
// controlling terminal), the console socket protocol of runc, crun and conmon
// (one message carrying the master with SCM_RIGHTS), and urun's own side when
// it relays the terminal itself (raw mode of the caller's tty, window size).
#include <sys/types.h>
#include <termios.h>

#include <optional>
#include <string>

#include "common/unique_fd.hpp"

namespace urun::linux {

struct WindowSize {
  unsigned short rows = 0;
  unsigned short cols = 0;
};

// A new pty from /dev/ptmx as seen by the caller: called inside the
// container's mount namespace and root, so the slave belongs to the
// container's devpts instance. Both ends O_CLOEXEC; the slave is not yet the
// controlling terminal of anybody.
struct Pty {
  UniqueFd master;
  UniqueFd slave;
};
Pty open_pty();

// Bind-mounts the pty's slave on /dev/console of the current root, as the
// runtime spec asks of a container with a terminal: /dev/console is created
// when missing (on the container's /dev tmpfs). Returns false, doing nothing,
// when /dev/console cannot exist there (a read-only /dev without it, or
// something other than a file or device in its place).
bool bind_console(int master);

// TIOCSWINSZ; a zero size is left alone (the kernel's default).
void set_window_size(int fd, WindowSize size);
// TIOCGWINSZ of `fd` when it is a terminal.
std::optional<WindowSize> window_size(int fd);

// Makes `slave` the controlling terminal of the caller's session (the caller
// must lead a session without one) and fds 0, 1 and 2. `slave` itself stays
// open (the caller closes it).
void make_controlling_terminal(int slave);

// Connects to the console socket (a unix stream socket; the path is the
// caller's, resolved in the caller's mount namespace). O_CLOEXEC, and at or
// above min_fd: below it are the fds passed into the container.
UniqueFd connect_console_socket(const std::string& path, int min_fd = 0);
// Sends `master` on `socket`: one message whose payload is the master's name
// ("/dev/ptmx", as runc sends) and whose SCM_RIGHTS carries the fd.
void send_console_fd(int socket, int master);

// Puts the terminal `fd` in raw mode (as crun and runc do for a foreground
// terminal) and restores its previous mode when destroyed. Does nothing when
// `fd` is not a terminal.
class RawMode {
 public:
  explicit RawMode(int fd);
  ~RawMode();
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  bool active() const { return active_; }

 private:
  int fd_;
  bool active_ = false;
  termios saved_{};
};

}  // namespace urun::linux
