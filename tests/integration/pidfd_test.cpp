// --pidfd-socket (create, run, exec) and the annotation run.oci.pidfd_receiver: a receiver
// listening in the test process gets one message whose SCM_RIGHTS carries a pidfd, and the pidfd
// refers to the container's init (or the exec'd process): its /proc/self/fdinfo "Pid:" is the
// pid `state` (or --pid-file) reports.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "harness.hpp"

namespace urun_it {
namespace {

// A listening unix stream socket the unprivileged runtime may connect to.
class PidfdListener {
 public:
  explicit PidfdListener(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0)
      throw std::runtime_error("pidfd socket " + path_ + ": " + strerror(errno));
    ::chmod(path_.c_str(), 0777);
  }
  ~PidfdListener() {
    if (pidfd_ >= 0) ::close(pidfd_);
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // Accepts one connection and returns the pidfd it carried (-1 on timeout or none); `payload`
  // gets the message's bytes.
  int receive(std::string& payload) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return -1;
    int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return -1;
    char data[256];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    ::close(conn);
    if (n <= 0) return -1;
    payload.assign(data, static_cast<size_t>(n));
    int count = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i, ++count) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (pidfd_ < 0) {
          pidfd_ = fd;
        } else {
          ::close(fd);
        }
      }
    }
    EXPECT_EQ(count, 1) << "want exactly one fd";
    return pidfd_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  int pidfd_ = -1;
};

// The pid a pidfd refers to, in our pid namespace (the host's).
std::string pidfd_pid(int fd) {
  return status_field(read_file("/proc/self/fdinfo/" + std::to_string(fd)), "Pid");
}

class Pidfd : public IntegrationTest {
 protected:
  std::string state_pid(const std::string& id) {
    Json st = rt().state(id);
    return st.contains("pid") ? std::to_string(st["pid"].get<long>()) : "";
  }
};

TEST_P(Pidfd, CreateSendsThePidfdOfTheInit) {
  PidfdListener listener(dir() + "/pidfd.sock");
  Bundle b = make_bundle();
  b.sh("sleep 60");
  b.save();
  Result r = create(b, "pf", {"--pidfd-socket", listener.path()});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::string payload;
  int fd = listener.receive(payload);
  ASSERT_GE(fd, 0) << "no pidfd received";
  EXPECT_EQ(pidfd_pid(fd), state_pid("pf"));
  if (!is_runc()) {
    EXPECT_EQ(payload, "standard");
  }
  rt().run({"delete", "--force", "pf"});
}

TEST_P(Pidfd, RunSendsThePidfdOfTheInit) {
  PidfdListener listener(dir() + "/pidfd.sock");
  Bundle b = make_bundle();
  b.sh("sleep 60");
  b.save();
  ASSERT_RUN_OK(
      rt().run({"run", "-d", "--pidfd-socket", listener.path(), "--bundle", b.dir, "pr"}));
  std::string payload;
  int fd = listener.receive(payload);
  ASSERT_GE(fd, 0) << "no pidfd received";
  EXPECT_EQ(pidfd_pid(fd), state_pid("pr"));
  rt().run({"delete", "--force", "pr"});
}

TEST_P(Pidfd, ExecSendsThePidfdOfTheProcess) {
  PidfdListener listener(dir() + "/pidfd.sock");
  Bundle b = make_bundle();
  b.sh("sleep 60");
  b.save();
  ASSERT_RUN_OK(rt().run({"run", "-d", "--bundle", b.dir, "pe"}));
  const std::string pid_file = dir() + "/exec.pid";
  ASSERT_RUN_OK(rt().run({"exec", "-d", "--pid-file", pid_file, "--pidfd-socket", listener.path(),
                          "pe", "sleep", "60"}));
  std::string payload;
  int fd = listener.receive(payload);
  ASSERT_GE(fd, 0) << "no pidfd received";
  EXPECT_EQ(pidfd_pid(fd), trim(read_file(pid_file)));
  EXPECT_NE(pidfd_pid(fd), state_pid("pe")) << "the exec'd process's, not the init's";
  if (!is_runc()) {
    EXPECT_EQ(payload, "setns");
  }
  rt().run({"delete", "--force", "pe"});
}

TEST_P(Pidfd, AnnotationReceiverGetsThePidfdOfTheInit) {
  if (is_runc()) GTEST_SKIP() << "run.oci.pidfd_receiver is crun's";
  PidfdListener listener(dir() + "/pidfd.sock");
  Bundle b = make_bundle();
  b.config["annotations"]["run.oci.pidfd_receiver"] = listener.path();
  b.sh("sleep 60");
  b.save();
  Result r = create(b, "pa");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::string payload;
  int fd = listener.receive(payload);
  ASSERT_GE(fd, 0) << "no pidfd received";
  EXPECT_EQ(pidfd_pid(fd), state_pid("pa"));
  rt().run({"delete", "--force", "pa"});
}

TEST_P(Pidfd, ASocketNobodyListensOnFailsBeforeAnythingIsMade) {
  Bundle b = make_bundle();
  b.sh("echo container-ran");
  b.save();
  Result r = rt().run({"run", "--pidfd-socket", dir() + "/none.sock", "--bundle", b.dir, "pn"});
  expect_clean_failure(r, "none.sock");
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos);
  if (is_runc()) return;
  b.config["annotations"]["run.oci.pidfd_receiver"] = dir() + "/none2.sock";
  b.save();
  r = run_container(b, "pn");
  expect_clean_failure(r, "run.oci.pidfd_receiver");
}

URUN_IT_INSTANTIATE(Pidfd);

}  // namespace
}  // namespace urun_it
