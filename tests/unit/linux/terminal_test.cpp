// Terminal helpers: LISTEN_FDS parsing and the process's activation environment, and the pty
// primitives on a pty of the host's own (no container needed).
#include "linux/terminal.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <termios.h>

#include <cstring>

#include "common/error.hpp"
#include "fd_receiver.hpp"
#include "runtime/console.hpp"

namespace urun {
namespace {

TEST(ListenFds, AbsentMeansNone) { EXPECT_EQ(runtime::parse_listen_fds(nullptr), 0); }

TEST(ListenFds, ParsesACount) {
  EXPECT_EQ(runtime::parse_listen_fds("0"), 0);
  EXPECT_EQ(runtime::parse_listen_fds("1"), 1);
  EXPECT_EQ(runtime::parse_listen_fds("12"), 12);
}

TEST(ListenFds, RejectsGarbage) {
  for (const char* bad : {"", "x", "-1", "1x", " 1", "99999999999", "2097152"}) {
    SCOPED_TRACE(bad);
    try {
      runtime::parse_listen_fds(bad);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("LISTEN_FDS"), std::string::npos) << e.what();
      EXPECT_EQ(e.code(), EINVAL);
    }
  }
}

TEST(ListenEnv, AddsCountAndPid) {
  std::vector<std::string> env = {"PATH=/bin"};
  runtime::add_listen_env(env, 2, 1);
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "LISTEN_FDS=2", "LISTEN_PID=1"}));
}

TEST(ListenEnv, TheConfigsValuesWin) {
  std::vector<std::string> env = {"LISTEN_PID=7", "LISTEN_FDSX=1"};
  runtime::add_listen_env(env, 3, 1);
  EXPECT_EQ(env, (std::vector<std::string>{"LISTEN_PID=7", "LISTEN_FDSX=1", "LISTEN_FDS=3"}));
}

TEST(ListenEnv, NothingWithoutFds) {
  std::vector<std::string> env;
  runtime::add_listen_env(env, 0, 1);
  EXPECT_TRUE(env.empty());
}

TEST(Pty, OpensAPairAndSetsTheWindowSize) {
  linux::Pty pty = linux::open_pty();
  ASSERT_TRUE(pty.master);
  ASSERT_TRUE(pty.slave);
  EXPECT_TRUE(::isatty(pty.slave.get()));
  linux::set_window_size(pty.master.get(), {25, 91});
  auto size = linux::window_size(pty.slave.get());
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->rows, 25);
  EXPECT_EQ(size->cols, 91);
  // Bytes written to the master are read from the slave.
  ASSERT_EQ(::write(pty.master.get(), "x\n", 2), 2);
  char buf[8] = {};
  EXPECT_GT(::read(pty.slave.get(), buf, sizeof buf), 0);
  EXPECT_EQ(buf[0], 'x');
  EXPECT_FALSE(linux::window_size(STDIN_FILENO + 1000).has_value());
}

TEST(Pty, RawModeIsRestored) {
  linux::Pty pty = linux::open_pty();
  termios before{};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &before), 0);
  ASSERT_TRUE(before.c_lflag & ICANON);
  {
    linux::RawMode raw(pty.slave.get());
    EXPECT_TRUE(raw.active());
    termios during{};
    ASSERT_EQ(::tcgetattr(pty.slave.get(), &during), 0);
    EXPECT_FALSE(during.c_lflag & (ICANON | ECHO));
  }
  termios after{};
  ASSERT_EQ(::tcgetattr(pty.slave.get(), &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
}

TEST(Pty, RawModeOfANonTerminalDoesNothing) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    linux::RawMode raw(fds[0]);
    EXPECT_FALSE(raw.active());
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(ConsoleSocket, SendsOneFdWithRuncsName) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  linux::Pty pty = linux::open_pty();
  linux::send_console_fd(a.get(), pty.master.get());
  urun_test::Received r = urun_test::receive_fds(b.get(), 64);
  ASSERT_EQ(r.bytes, 9);
  EXPECT_EQ(r.payload, "/dev/ptmx");
  ASSERT_EQ(r.fds.size(), 1u) << "one fd in SCM_RIGHTS";
  UniqueFd received(r.fds[0]);
  EXPECT_TRUE(::isatty(received.get()));
}

TEST(ConsoleSocket, ConnectNamesThePath) {
  try {
    linux::connect_console_socket("/nonexistent/console.sock");
    ADD_FAILURE() << "connected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/console.sock"), std::string::npos);
    EXPECT_EQ(e.code(), ENOENT);
  }
}

}  // namespace
}  // namespace urun
