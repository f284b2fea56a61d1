// The sync channel's view of a peer that is gone, and a wait that gives up.
#include "runtime/sync_channel.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "common/error.hpp"

namespace urun::runtime {
namespace {

TEST(SyncChannel, PeerGoneWithAMessageUnreadIsEndOfSetUp) {
  SyncChannel parent, child;
  SyncChannel::make_pair(parent, child);
  parent.send(Msg::kStart);
  child.close();  // with kStart unread: the kernel reports ECONNRESET to us
  try {
    parent.receive();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ECHILD) << e.message();
  }
}

TEST(SyncChannel, WaiterRunsBeforeEachReceiveAndMayGiveUp) {
  SyncChannel parent, child;
  SyncChannel::make_pair(parent, child);
  int waits = 0;
  parent.set_waiter([&](int fd) {
    EXPECT_EQ(fd, parent.fd());
    if (++waits == 2) throw Error("gave up", ETIMEDOUT);
  });
  child.send(Msg::kReady);
  EXPECT_EQ(parent.receive().type, Msg::kReady);
  try {
    parent.receive();
    FAIL() << "the waiter's error did not stop the receive";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ETIMEDOUT);
  }
  EXPECT_EQ(waits, 2);
}

}  // namespace
}  // namespace urun::runtime
