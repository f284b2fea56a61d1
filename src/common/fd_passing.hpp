// Sending an fd over a unix socket (SCM_RIGHTS): the sync channel's frames, the
// console socket's pty master and the seccomp agent's listener all use it.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

namespace urun {

// One sendmsg(MSG_NOSIGNAL) of `iov` with `fd` attached (none when fd < 0),
// retried on EINTR. Returns the bytes sent, or -1 with errno set; never throws,
// so the child side may use it on its error path.
ssize_t send_with_fd(int sock, const iovec* iov, size_t iov_count, int fd) noexcept;

}  // namespace urun
