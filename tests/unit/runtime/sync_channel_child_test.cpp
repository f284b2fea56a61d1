// The sync channel between the parent and a forked child, as create and exec use it: the
// child's error frame becomes the parent's urun::Error with the child's errno and text, the
// child's log lines reach the parent's log while it waits, an fd travels with a frame, and a
// bounded wait gives up on a child that says nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "in_child.hpp"
#include "runtime/sync_channel.hpp"
#include "temp_dir.hpp"

namespace urun::runtime {
namespace {

using urun_test::Child;

// The two ends, the child's to be used in a Child and the parent's in the test.
struct Ends {
  SyncChannel parent, child;
  Ends() { SyncChannel::make_pair(parent, child); }
};

// The urun::Error that waiting for kReady throws; a failure (and code 0) when none.
Error error_waiting_for_ready(const SyncChannel& parent) {
  try {
    parent.expect(Msg::kReady);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "the wait for kReady ended without an error";
  return Error("no error", 0);
}

TEST(SyncChannelChild, ErrorFrameIsRethrownWithTheChildsErrnoAndText) {
  Ends ends;
  Child child([&] {
    ends.parent.close();
    ends.child.send_error(EACCES, "open /etc/secret");
    return 0;
  });
  ends.child.close();
  const Error e = error_waiting_for_ready(ends.parent);
  EXPECT_EQ(e.code(), EACCES);
  EXPECT_EQ(e.message(), "open /etc/secret");
  EXPECT_EQ(child.wait(), 0);
}

TEST(SyncChannelChild, LogFramesAreForwardedWhileWaiting) {
  urun_test::TempDir tmp("urun-sync");
  const std::string log_file = tmp / "log";
  // The log's destination is process-wide: set it in a child of the test runner.
  int code = urun_test::in_child([&] {
    log::configure("file:" + log_file, log::Format::text, log::Level::debug);
    Ends ends;
    Child peer([&] {
      ends.parent.close();
      ends.child.send_log(log::Level::warning, "from the child");
      ends.child.send(Msg::kReady, "done");
      return 0;
    });
    ends.child.close();
    const std::string payload = ends.parent.expect(Msg::kReady);
    return payload == "done" && peer.wait() == 0 ? 0 : 1;
  });
  ASSERT_EQ(code, 0);
  std::ifstream in(log_file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("from the child"), std::string::npos) << text.str();
}

TEST(SyncChannelChild, AnFdTravelsWithItsFrame) {
  Ends ends;
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  Child child([&] {
    ends.parent.close();
    read_end.reset();
    ends.child.send_fd(Msg::kTerminal, write_end.get(), "pty");
    return 0;
  });
  ends.child.close();
  write_end.reset();  // the only writer left is the one the frame carries
  Frame f = ends.parent.expect_frame(Msg::kTerminal);
  EXPECT_EQ(f.payload, "pty");
  ASSERT_TRUE(f.fd.valid());
  EXPECT_EQ(child.wait(), 0);
  ASSERT_EQ(::write(f.fd.get(), "x", 1), 1);
  f.fd.reset();
  char got[2] = {};
  EXPECT_EQ(::read(read_end.get(), got, sizeof got), 1);
  EXPECT_EQ(got[0], 'x');
}

TEST(SyncChannelChild, ABoundedWaitGivesUpOnASilentChild) {
  Ends ends;
  Child child([&] {
    ends.parent.close();
    ::pause();  // alive, holding its end open, saying nothing
    return 0;
  });
  ends.child.close();
  ends.parent.set_waiter([](int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) == 0) throw Error("the child did not answer within 200 ms", ETIMEDOUT);
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_waiting_for_ready(ends.parent).code(), ETIMEDOUT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(SyncChannelChild, AChildThatExitsSilentlyEndsTheWaitWithEchild) {
  Ends ends;
  Child child([&] {
    ends.parent.close();
    return 3;
  });
  ends.child.close();
  EXPECT_EQ(child.wait(), 3);
  const Error e = error_waiting_for_ready(ends.parent);
  EXPECT_EQ(e.code(), ECHILD) << e.message();
}

TEST(SyncChannelChild, AnUnexpectedMessageIsAProtocolError) {
  Ends ends;
  Child child([&] {
    ends.parent.close();
    ends.child.send(Msg::kStart);
    return 0;
  });
  ends.child.close();
  const Error e = error_waiting_for_ready(ends.parent);
  EXPECT_EQ(e.code(), EPROTO) << e.message();
}

}  // namespace
}  // namespace urun::runtime
