#pragma once
// Which processes belong to a container: its cgroup's, or without a cgroup,
// every process in the init's pid namespace (the init alone when it shares the
// host's).
#include <sys/types.h>

#include <chrono>
#include <vector>

#include "state/store.hpp"

namespace urun::container {

// Host pids, sorted.
std::vector<pid_t> container_pids(const state::Record& record);

// runc's words: containerd's shim recognises a kill of an exited container by them (and
// then deletes it), any other text fails `ctr task delete --force`. The caller's context
// names the container: "kill `id`: container not running".
inline constexpr const char* kNotRunning = "container not running";

// Signals the init through a pidfd after checking its start time, so a pid the kernel
// has since reused is never signalled. Throws Error(kNotRunning, ESRCH) when it is gone.
void signal_init(const state::Record& record, int sig);
// Signals the init, or with `all` every process: the cgroup's (also those that left the
// pid namespace's view), without one the init's pid namespace. Looks at no status.
void signal_processes(const state::Record& record, int sig, bool all);
// Polls until the init has exited (a zombie counts); false after `limit`.
bool wait_stopped(const state::Record& record, std::chrono::milliseconds limit);

}  // namespace urun::container
