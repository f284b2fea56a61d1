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
#include "fd_receiver.hpp"
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
  explicit Listener(const std::string& path) : listener_(path) {}
  // Accepts one connection: its payload and the fd it carried (-1 when none).
  std::pair<std::string, int> receive() {
    urun_test::Received r = listener_.accept_and_receive(std::chrono::seconds(10), 64);
    for (size_t i = 1; i < r.fds.size(); ++i) ::close(r.fds[i]);
    return {r.bytes > 0 ? r.payload : "", r.fds.empty() ? -1 : r.fds[0]};
  }

 private:
  urun_test::FdListener listener_;
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
