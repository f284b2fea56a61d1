#pragma once
// Parent side of SCMP_ACT_NOTIFY: hands the child's seccomp listener fd to
// the agent at linux.seccomp.listenerPath, as the runtime-spec describes (one
// connection per fd, an AF_UNIX SOCK_STREAM socket, the container process
// state as JSON with the fd in SCM_RIGHTS, then close).
#include <sys/types.h>

#include <string>

namespace urun::linux {

// The container process state: fds ["seccompFd"], pid, metadata (when not
// empty) and the container's state (`state_json`, the OCI state object, with
// its status replaced by `status` when that is given).
std::string seccomp_process_state(pid_t pid, const std::string& metadata,
                                  const std::string& state_json, const char* status = nullptr);

// Connects to `listener_path`, sends `process_state` with `listener_fd` and
// closes the connection. Throws Error naming the path.
void send_seccomp_listener(const std::string& listener_path, int listener_fd,
                           const std::string& process_state);

}  // namespace urun::linux
