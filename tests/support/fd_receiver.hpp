// Receiving fds over a unix socket (SCM_RIGHTS) in tests: the console socket's pty master,
// the pidfd receiver's pidfd, the seccomp agent's listener. Plain fds, no urun types, so
// that userns/tests can use it too.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace urun_test {

// What one message on a unix socket carried.
struct Received {
  ssize_t bytes = -1;    // recvmsg's result: -1 also when nothing came in time
  std::string payload;   // the message's bytes
  std::vector<int> fds;  // every fd of its SCM_RIGHTS, in order (close-on-exec); caller owns
};

// One recvmsg(MSG_CMSG_CLOEXEC) on `sock` of at most `max_payload` bytes and up to 4 fds.
Received receive_fds(int sock, size_t max_payload = 4096);

// A listening unix stream socket at `path`, mode 0777 so that the runtime run as the
// unprivileged test user may connect; closed and removed when it goes.
class FdListener {
 public:
  explicit FdListener(std::string path);  // throws std::runtime_error saying why
  ~FdListener();
  FdListener(const FdListener&) = delete;
  FdListener& operator=(const FdListener&) = delete;

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  // Accepts one connection and receives one message from it, waiting at most `timeout`
  // for each; bytes is -1 when nothing came.
  Received accept_and_receive(std::chrono::milliseconds timeout, size_t max_payload = 4096);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace urun_test
