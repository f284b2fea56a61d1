#pragma once
// process.terminal, child side, shared by the container init and `exec`: a
// pty of the container's own devpts becomes the process's stdio and
// controlling terminal, and its master goes to whoever drives it.
//
// Who drives it:
//   --console-socket PATH   the parent connected to PATH before clone/fork
//                           (the path is in the host's mount namespace, which
//                           the child has left by now) and handed the
//                           connected fd down: the child sends the master on it.
//   none (foreground)       the master goes to urun on the sync channel
//                           (kTerminal), and urun relays it to its own stdio.
#include <string>
#include <vector>

#include "runtime/sync_channel.hpp"
#include "spec/spec.hpp"

namespace urun::runtime {

// Must run in the container's mount namespace and root, after its /dev/pts is
// mounted, before the switch to the process user (the slave is given to that
// user). Closes console_socket when >= 0: nothing of it reaches the process.
void attach_terminal(const spec::Process& proc, int console_socket, const SyncChannel& channel);

// Socket activation (LISTEN_FDS as systemd sets it, crun's behaviour): the
// number of fds 3.. that urun passes on, or 0 when `value` (LISTEN_FDS of
// urun's environment, may be null) is absent. Throws Error on garbage.
int parse_listen_fds(const char* value);

// Adds LISTEN_FDS=n and LISTEN_PID=pid to `env` unless the process's own
// environment sets them already (the config wins, as in crun).
void add_listen_env(std::vector<std::string>& env, int n, int pid);

}  // namespace urun::runtime
