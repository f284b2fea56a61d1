#include "runtime/sync_channel.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>
#include <memory>

#include "common/error.hpp"
#include "common/fd_passing.hpp"

namespace urun::runtime {
namespace {

struct Header {
  uint32_t type;
  int32_t err;
};

// Large enough for any state JSON or error text we send.
constexpr size_t kMaxFrame = 256 * 1024;

}  // namespace

void SyncChannel::make_pair(SyncChannel& parent_end, SyncChannel& child_end) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    throw_errno("create sync socket pair");
  parent_end = SyncChannel(UniqueFd(fds[0]));
  child_end = SyncChannel(UniqueFd(fds[1]));
}

namespace {

bool send_frame(int sock, Msg type, std::string_view payload, int32_t err, int fd) noexcept {
  Header h{static_cast<uint32_t>(type), err};
  if (payload.size() > kMaxFrame - sizeof h) payload = payload.substr(0, kMaxFrame - sizeof h);
  iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(payload.data()), payload.size()}};
  return send_with_fd(sock, iov, payload.empty() ? 1 : 2, fd) >= 0;
}

}  // namespace

bool SyncChannel::try_send(Msg type, std::string_view payload, int32_t err) const noexcept {
  return send_frame(fd_.get(), type, payload, err, -1);
}

void SyncChannel::send_fd(Msg type, int fd, std::string_view payload) const {
  if (!send_frame(fd_.get(), type, payload, 0, fd)) throw_errno("send fd on sync socket");
}

void SyncChannel::send(Msg type, std::string_view payload, int32_t err) const {
  if (!try_send(type, payload, err)) throw_errno("send on sync socket");
}

void SyncChannel::send_log(log::Level level, std::string_view message) const noexcept {
  std::string payload(1, static_cast<char>('0' + static_cast<int>(level)));
  payload.append(message);
  try_send(Msg::kLog, payload);
}

Frame SyncChannel::receive() const {
  std::optional<Frame> f = receive_unless_closed();
  if (!f) throw Error("the container process exited during set-up", ECHILD);
  return std::move(*f);
}

std::optional<Frame> SyncChannel::receive_unless_closed() const {
  // One buffer for every receive of the process, in .bss: a new 256 KiB each time was an mmap
  // and munmap per message (malloc maps blocks that large) and fresh pages to fault in;
  // recvmsg touches only what it writes, so an untouched page is never resident. Every
  // receive copies out of it before returning, and urun receives on one thread.
  static char buf[kMaxFrame];
  if (waiter_) waiter_(fd_.get());
  UniqueFd passed;
  const ssize_t n = receive_with_fd(fd_.get(), buf, kMaxFrame, passed);
  // ECONNRESET: the peer is gone, leaving a message of ours unread.
  if (n < 0 && errno != ECONNRESET) throw_errno("read sync socket");
  if (n <= 0) return std::nullopt;
  if (static_cast<size_t>(n) < sizeof(Header)) throw Error("short message on sync socket", EPROTO);
  Header h;
  std::memcpy(&h, buf, sizeof h);
  return Frame{static_cast<Msg>(h.type), h.err,
               std::string(buf + sizeof h, static_cast<size_t>(n) - sizeof h), std::move(passed)};
}

void write_log_frame(const Frame& f) {
  if (f.payload.empty()) return;
  int level = f.payload[0] - '0';
  if (level < 0 || level > 2) level = 0;
  log::write(static_cast<log::Level>(level), std::string_view(f.payload).substr(1));
}

std::string SyncChannel::expect(Msg type) const { return std::move(expect_frame(type).payload); }

Frame SyncChannel::expect_frame(Msg type) const {
  for (;;) {
    Frame f = receive();
    if (f.type == type) return f;
    switch (f.type) {
      case Msg::kLog:
        write_log_frame(f);
        break;
      case Msg::kError:
        throw Error(std::move(f.payload), f.err);
      default:
        throw Error("unexpected message " + std::to_string(static_cast<uint32_t>(f.type)) +
                        " on sync socket while waiting for " +
                        std::to_string(static_cast<uint32_t>(type)),
                    EPROTO);
    }
  }
}

}  // namespace urun::runtime
