#include "runtime/console.hpp"

#include <unistd.h>

#include <charconv>

#include "common/error.hpp"
#include "linux/terminal.hpp"

namespace urun::runtime {

void attach_terminal(const spec::Process& proc, int console_socket, const SyncChannel& channel) {
  linux::Pty pty = linux::open_pty();
  // The config's size, else the size of the terminal urun was started from
  // (as crun): a foreground relay keeps it in step on SIGWINCH afterwards.
  linux::WindowSize size;
  if (proc.console_size) {
    size.rows = static_cast<unsigned short>(proc.console_size->height);
    size.cols = static_cast<unsigned short>(proc.console_size->width);
  } else if (auto own = linux::window_size(STDIN_FILENO)) {
    size = *own;
  }
  linux::set_window_size(pty.master.get(), size);
  // The process user owns its terminal, as on a login. Best effort: the uid
  // may be unmapped (a rootless single-id map), and the fds work regardless.
  if (::fchown(pty.slave.get(), proc.user.uid, static_cast<gid_t>(-1)) < 0) {
  }
  linux::make_controlling_terminal(pty.slave.get());
  if (console_socket >= 0) {
    linux::send_console_fd(console_socket, pty.master.get());
    ::close(console_socket);
  } else {
    channel.send_fd(Msg::kTerminal, pty.master.get());
  }
}

int parse_listen_fds(const char* value) {
  if (value == nullptr) return 0;
  std::string_view text(value);
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  // A descriptor count beyond any fd limit is garbage, not a request.
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 0 ||
      n > 1 << 20)
    throw Error("invalid LISTEN_FDS " + quote(std::string(text)) + ": expected a number of fds",
                EINVAL);
  return n;
}

void add_listen_env(std::vector<std::string>& env, int n, int pid) {
  if (n <= 0) return;
  auto has = [&env](std::string_view key) {
    for (const auto& e : env)
      if (e.starts_with(key)) return true;
    return false;
  };
  if (!has("LISTEN_FDS=")) env.push_back("LISTEN_FDS=" + std::to_string(n));
  if (!has("LISTEN_PID=")) env.push_back("LISTEN_PID=" + std::to_string(pid));
}

}  // namespace urun::runtime
