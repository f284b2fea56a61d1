// common/pidfd: the --pidfd-socket / run.oci.pidfd_receiver protocol against a listening unix
// socket in a temp dir: one message, the label as payload, one pidfd in SCM_RIGHTS that refers
// to the process asked for.
#include "common/pidfd.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "common/error.hpp"
#include "temp_dir.hpp"

namespace {

// The "Pid:" line of /proc/self/fdinfo/<fd>: the pid a pidfd refers to.
std::string fdinfo_pid(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Pid:", 0) == 0) return line.substr(line.find_first_not_of(" \t", 4));
  return "";
}

class Listener {
 public:
  explicit Listener(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    EXPECT_EQ(::listen(fd_, 1), 0);
  }
  ~Listener() { ::close(fd_); }
  // Accepts one connection: its payload and the fd it carried (-1 when none).
  std::pair<std::string, int> receive() {
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return {"", -1};
    char data[64];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    ::close(conn);
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); n > 0 && c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_type == SCM_RIGHTS) std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return {n > 0 ? std::string(data, static_cast<size_t>(n)) : "", fd};
  }

 private:
  int fd_ = -1;
};

TEST(Pidfd, SendsAPidfdOfTheProcessWithItsLabel) {
  urun_test::TempDir tmp("urun-pidfd");
  const std::string path = tmp.path() + "/sock";
  Listener listener(path);
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    _exit(0);
  }
  urun::PidfdReceiver receiver(path, "--pidfd-socket", 100);
  ASSERT_TRUE(receiver);
  receiver.send(child, "standard");
  EXPECT_FALSE(receiver) << "one message per connection";
  auto [payload, fd] = listener.receive();
  // Read while the child lives: a reaped process's pidfd shows "Pid: -1".
  const std::string pid = fd >= 0 ? fdinfo_pid(fd) : "";
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(payload, "standard");
  ASSERT_GE(fd, 0);
  EXPECT_EQ(pid, std::to_string(child));
  ::close(fd);
}

TEST(Pidfd, ConnectKeepsClearOfPreservedFdsAndNamesTheSocket) {
  urun_test::TempDir tmp("urun-pidfd");
  Listener listener(tmp.path() + "/sock");
  urun::PidfdReceiver receiver(tmp.path() + "/sock", "--pidfd-socket", 200);
  receiver.send(::getpid(), "setns");
  auto [payload, fd] = listener.receive();
  EXPECT_EQ(payload, "setns");
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fdinfo_pid(fd), std::to_string(::getpid()));
  ::close(fd);
  try {
    urun::PidfdReceiver missing(tmp.path() + "/none", "--pidfd-socket", 3);
    ADD_FAILURE() << "connected to a missing socket";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_EQ(std::string(e.what()),
              "connect to --pidfd-socket `" + tmp.path() + "/none`: No such file or directory");
  }
}

TEST(Pidfd, AnExitedAndReapedProcessIsAClearError) {
  pid_t child = ::fork();
  if (child == 0) _exit(0);
  ::waitpid(child, nullptr, 0);
  try {
    urun::open_pidfd(child);
    ADD_FAILURE() << "a pidfd of a reaped process";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), ESRCH);
  }
}

}  // namespace
