#pragma once
// What create/run and exec share about the process they start: the pid file,
// and a foreground wait that forwards signals.
#include <signal.h>
#include <sys/types.h>

#include <string>

namespace urun::container {

// Written whole and renamed: a reader (conmon, Podman) never sees a partial
// pid. Nothing happens when path is empty.
void write_pid_file(const std::string& path, pid_t pid);

// The signals a foreground run or exec forwards (and SIGCHLD). Block them
// before starting the process, so none is lost before the wait.
sigset_t forwarded_signals();

// Forwards signals to `pid` until it exits and returns its status as a shell
// reports it (128 + signal when killed). As a subreaper we may inherit its
// orphans: one waitpid(-1) loop reaps them too, so the process's own status
// is never taken by a separate reaping loop. `what` names it in errors.
int wait_forwarding_signals(pid_t pid, const sigset_t& set, const std::string& what);

// wait_forwarding_signals for a process on a pty whose master urun holds
// (process.terminal without a console socket): copies stdin to the master and
// the master to stdout until the process exits and its output is drained,
// with the caller's tty (when stdin is one) in raw mode for the duration and
// restored on every way out. SIGWINCH resizes the pty to the caller's tty.
int wait_relaying_terminal(pid_t pid, int master, const sigset_t& set, const std::string& what);

}  // namespace urun::container
