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

#include "fd_receiver.hpp"
#include "harness.hpp"

namespace urun_it {
namespace {

// A listening unix stream socket the unprivileged runtime may connect to.
class PidfdListener {
 public:
  explicit PidfdListener(std::string path) : listener_(std::move(path)) {}
  ~PidfdListener() {
    if (pidfd_ >= 0) ::close(pidfd_);
  }
  const std::string& path() const { return listener_.path(); }
  // Accepts one connection and returns the pidfd it carried (-1 on timeout or none); `payload`
  // gets the message's bytes.
  int receive(std::string& payload) {
    urun_test::Received r = listener_.accept_and_receive(std::chrono::milliseconds(10000), 256);
    if (r.bytes <= 0) return -1;
    payload = r.payload;
    for (int fd : r.fds) {
      if (pidfd_ < 0) {
        pidfd_ = fd;
      } else {
        ::close(fd);
      }
    }
    EXPECT_EQ(r.fds.size(), 1u) << "want exactly one fd";
    return pidfd_;
  }

 private:
  urun_test::FdListener listener_;
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
