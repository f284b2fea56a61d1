// The plumbing create and exec share: a forked child's failure reaches the parent as one error
// frame, a child that forks again reports the new pid, and fds are moved clear of a range.
#include "runtime/child_plumbing.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "common/error.hpp"

namespace urun::runtime {
namespace {

// Forks a child that runs `body` under the entry guard; returns its exit status.
template <typename Body>
int run_guarded_child(SyncChannel& parent, Body body) {
  SyncChannel child;
  SyncChannel::make_pair(parent, child);
  pid_t pid = ::fork();
  if (pid == 0) {
    parent.close();
    run_child_guarded(child, "test child", body);
  }
  child.close();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// The error the parent's next wait rethrows; an empty Error when none came.
Error error_frame(const SyncChannel& parent) {
  try {
    parent.expect(Msg::kReady);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "the child's error was not rethrown";
  return Error("", 0);
}

TEST(ChildPlumbing, ErrorInTheChildArrivesAsOneFrameWithItsErrno) {
  SyncChannel parent;
  int status = run_guarded_child(parent, [] { throw Error("mount `x`: refused", EACCES); });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 127);
  Error e = error_frame(parent);
  EXPECT_EQ(e.code(), EACCES);
  EXPECT_EQ(e.message(), "mount `x`: refused");
}

TEST(ChildPlumbing, OtherExceptionsAreNamedAfterTheChild) {
  SyncChannel parent;
  run_guarded_child(parent, [] { throw std::runtime_error("boom"); });
  Error e = error_frame(parent);
  EXPECT_EQ(e.code(), EINVAL);
  EXPECT_EQ(e.message(), "test child: boom");
}

TEST(ChildPlumbing, ForkedPidIsReportedAndTheForkingChildReaped) {
  SyncChannel parent, child;
  SyncChannel::make_pair(parent, child);
  pid_t forking = ::fork();
  if (forking == 0) {
    parent.close();
    run_child_guarded(child, "test child", [&child] {
      fork_and_report_pid_in_child(child, "the test process");
      // The forked process: its message comes after the pid.
      child.send(Msg::kReady, std::to_string(::getpid()));
      ::_exit(0);
    });
  }
  child.close();
  const pid_t forked = receive_forked_pid_from_child(parent, forking);
  EXPECT_NE(forked, forking);
  // Reaped already: the forking child is no longer ours to wait for.
  EXPECT_EQ(::waitpid(forking, nullptr, WNOHANG), -1);
  EXPECT_EQ(parent.expect(Msg::kReady), std::to_string(forked));
}

TEST(ChildPlumbing, MoveAboveLeavesTheRangeBelowFree) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  const int min_fd = fd.get() + 10;
  move_above(fd, min_fd);
  EXPECT_GE(fd.get(), min_fd);
  EXPECT_TRUE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
  const int kept = fd.get();
  move_above(fd, 3);  // already above: unchanged
  EXPECT_EQ(fd.get(), kept);
}

TEST(ChildPlumbing, NoConsoleCopyWithoutTerminalOrSocket) {
  EXPECT_FALSE(copy_console_socket(false, 0, 3));
  EXPECT_FALSE(copy_console_socket(true, -1, 3));
  UniqueFd socket(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(socket);
  UniqueFd copy = copy_console_socket(true, socket.get(), 20);
  ASSERT_TRUE(copy);
  EXPECT_GE(copy.get(), 20);
}

}  // namespace
}  // namespace urun::runtime
