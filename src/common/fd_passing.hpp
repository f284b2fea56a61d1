// Sending and receiving an fd over a unix socket (SCM_RIGHTS), and connecting one: the sync
// channel's frames, the console socket's pty master and the seccomp agent's listener all use it.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>

#include "common/unique_fd.hpp"

namespace urun {

// One sendmsg(MSG_NOSIGNAL) of `iov` with `fd` attached (none when fd < 0),
// retried on EINTR. Returns the bytes sent, or -1 with errno set; never throws,
// so the child side may use it on its error path.
ssize_t send_with_fd(int sock, const iovec* iov, size_t iov_count, int fd) noexcept;

// One recvmsg(MSG_CMSG_CLOEXEC) of at most `size` bytes into `buf`, retried on EINTR; an fd
// that came with the message is put in `fd` (close-on-exec). Returns the bytes received
// (0: the peer is gone), or -1 with errno set.
ssize_t receive_with_fd(int sock, void* buf, size_t size, UniqueFd& fd) noexcept;

// A unix stream socket connected to `path` (close-on-exec, retried on EINTR), moved to an fd
// >= min_fd so that it stays clear of the fds a caller preserves. Throws Error starting with
// `what` (e.g. "connect to the console socket `/x`"); a path too long for sun_path is
// ENAMETOOLONG.
UniqueFd connect_unix_socket(const std::string& path, int min_fd, const std::string& what);

}  // namespace urun
