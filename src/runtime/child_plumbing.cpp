#include "runtime/child_plumbing.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "linux/seccomp/seccomp_notify.hpp"
#include "runtime/process_setup.hpp"

namespace urun::runtime {
namespace {

const SyncChannel* g_channel = nullptr;

// Log lines from the child travel to the parent, which owns the log file.
void channel_sink(log::Level level, std::string_view message) {
  if (g_channel) g_channel->send_log(level, message);
}

}  // namespace

void move_above(UniqueFd& fd, int min_fd) {
  if (fd.get() >= min_fd) return;
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, min_fd);
  if (moved < 0) throw_errno("move fd above preserved fds");
  fd.reset(moved);
}

UniqueFd copy_console_socket(bool terminal, int console_socket, int min_fd) {
  UniqueFd copy;
  if (!terminal || console_socket < 0) return copy;
  copy.reset(::fcntl(console_socket, F_DUPFD_CLOEXEC, min_fd));
  if (!copy) throw_errno("duplicate the console socket");
  return copy;
}

void enter_child_guard(const SyncChannel& channel) noexcept {
  reset_signals();
  g_channel = &channel;
  log::set_sink(channel_sink);
}

void report_child_failure(const SyncChannel& channel, const char* what) noexcept {
  std::string message;
  int err = EINVAL;
  try {
    throw;
  } catch (const Error& e) {
    message = e.message();
    err = e.code();
  } catch (const std::exception& e) {
    message = std::string(what) + ": " + e.what();
  } catch (...) {
    message = std::string(what) + ": unknown error";
  }
  if (!channel.try_send(Msg::kError, message, err))
    fs::write_all(STDERR_FILENO, "urun: " + message + "\n");
}

void fork_and_report_pid_in_child(const SyncChannel& channel, const char* what) {
  // Both processes share the channel: the forked one waits for EOF on this pipe, which comes
  // when the forking one exits, after it reported the pid.
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) < 0) throw_errno(std::string("create the start pipe of ") + what);
  UniqueFd gate_read(gate[0]), gate_write(gate[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno(std::string("fork ") + what);
  if (pid > 0) {
    channel.send(Msg::kInitPid, std::to_string(pid));
    ::_exit(0);  // closing gate_write releases the forked process
  }
  gate_write.reset();
  char byte;
  while (::read(gate_read.get(), &byte, 1) < 0 && errno == EINTR) {
  }
}

pid_t receive_forked_pid_from_child(const SyncChannel& parent_end, pid_t forking_child) {
  const pid_t pid = static_cast<pid_t>(std::stol(parent_end.expect(Msg::kInitPid)));
  // The forking child exits right after kInitPid: reaped before anything else, so the forked
  // one is already reparented to its subreaper.
  while (::waitpid(forking_child, nullptr, 0) < 0 && errno == EINTR) {
  }
  return pid;
}

UniqueFd receive_handoffs_from_child(const SyncChannel& parent_end, bool terminal,
                                     const linux::SeccompProgram* seccomp, pid_t pid,
                                     const std::string& state_json, const char* status) {
  UniqueFd master;
  if (terminal) master = std::move(parent_end.expect_frame(Msg::kTerminal).fd);
  if (seccomp && seccomp->notify) {
    Frame f = parent_end.expect_frame(Msg::kSeccompListener);
    if (!f.fd) throw Error("seccomp listener missing on the sync socket", EPROTO);
    linux::send_seccomp_listener(
        seccomp->listener_path, f.fd.get(),
        linux::seccomp_process_state(pid, seccomp->listener_metadata, state_json, status));
  }
  return master;
}

}  // namespace urun::runtime
