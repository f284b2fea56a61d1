#pragma once
// The plumbing both launchers share (launch_init.cpp for create, launch_exec.cpp for exec): how
// the runtime keeps its fds clear of the preserved range, how a forked or cloned child reports
// its failure, how a child that must fork once more reports the new pid, and how the parent
// takes the pty master and the seccomp listener the child hands over.
#include <sys/types.h>

#include <string>

#include "common/unique_fd.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "runtime/sync_channel.hpp"

namespace urun::runtime {

// Keeps one of the runtime's fds clear of [3, min_fd), the range the preserved fds take.
void move_above(UniqueFd& fd, int min_fd);

// A close-on-exec copy of the caller's connected console socket above min_fd for the child,
// or an empty fd when there is none (-1) or no terminal is used.
UniqueFd copy_console_socket(bool terminal, int console_socket, int min_fd);

// --- child side ---

// The child's entry guard: resets signals, sends its log lines to the parent over `channel`,
// runs `body` and never returns. A failure goes to the parent as a kError frame (to stderr when
// the parent is gone; `what` names the child in a message without one) and the child _exits
// with status 127.
template <typename Body>
[[noreturn]] void run_child_guarded(const SyncChannel& channel, const char* what,
                                    Body&& body) noexcept;

// Forks the process the set-up goes on in (a joined or new pid or time namespace applies to
// children only): the forked child's host pid goes to the parent as kInitPid and the caller
// exits; returns in the forked child once that message is sent, so its own first message
// cannot overtake it. `what` names the process for errors ("the container init").
void fork_and_report_pid_in_child(const SyncChannel& channel, const char* what);

// --- parent side ---

// The counterpart: the forked child's pid (kInitPid), once the child that forked it has
// exited and been reaped.
pid_t receive_forked_pid_from_child(const SyncChannel& parent_end, pid_t forking_child);

// What the child hands over before kReady, in the order it sends them: the pty master when
// `terminal` (process.terminal without a console socket; returned), then, for a seccomp program
// with a listener, the listener, which goes on to the agent with the process state of `pid`
// (`state_json`, its status replaced by `status` unless nullptr).
UniqueFd receive_handoffs_from_child(const SyncChannel& parent_end, bool terminal,
                                     const linux::SeccompProgram* seccomp, pid_t pid,
                                     const std::string& state_json, const char* status);

// --- implementation of the template ---

void enter_child_guard(const SyncChannel& channel) noexcept;
void report_child_failure(const SyncChannel& channel, const char* what) noexcept;

template <typename Body>
void run_child_guarded(const SyncChannel& channel, const char* what, Body&& body) noexcept {
  enter_child_guard(channel);
  try {
    body();
  } catch (...) {
    report_child_failure(channel, what);
  }
  ::_exit(127);
}

}  // namespace urun::runtime
