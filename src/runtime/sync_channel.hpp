#pragma once
// The parent <-> container-init channel: one SOCK_SEQPACKET socketpair, so
// every send is one message and message boundaries survive.
//
// Messages, in the order a create sees them:
//
//   dir    type           payload             meaning
//   -----  -------------  ------------------  -------------------------------------------------
//   C->P   kNeedIdMaps    refused indices     a new user namespace exists: write its id maps.
//                                             "1,4": bind mounts whose source the init could
//                                             not open (linux/mounts/bind_sources.hpp)
//   P->C   kMountFd       mount index + fd    a detached tree for a bind mount: id-mapped, or
//                                             a refused source the parent cloned (0..n of
//                                             these come before kIdMapsDone)
//   P->C   kDeviceFd      device index + fd   a device node the parent made, as a detached
//                                             mount (root with a user namespace; before
//                                             kIdMapsDone)
//   P->C   kCgroupMount   encoded plan        (systemd manager with a cgroup mount only) what
//                                             /sys/fs/cgroup shows, known once the init
//                                             joined its scope; comes before kIdMapsDone
//   P->C   kIdMapsDone    -                   maps written (and the cgroup joined): go on
//   C->P   kInitPid       pid (text)          the init forked once more (pid/time namespace
//                                             joined or unshared): this is the real init
//   C->P   kRunHooks      -                   mounts done: run prestart + createRuntime now
//   P->C   kHooksDone     state JSON          they ran; the state is for createContainer hooks
//   C->P   kTerminal      - + pty master fd   process.terminal without a console socket:
//                                             urun relays the terminal (before kReady)
//   C->P   kSeccompListener  fd               (SCMP_ACT_NOTIFY only) the seccomp listener:
//                                             the parent passes it to the agent
//   C->P   kReady         -                   set-up complete: waiting for start
//   P->C   kStart         -                   (foreground run only) exec the process now
//   C->P   kLog           level byte + text   a log line from the child
//   either kError         errno + text        the sender failed; the receiver reports it
//
// expect() returns the payload of the awaited type, forwards kLog lines to
// urun's log as they arrive, and rethrows a kError as urun::Error carrying the
// peer's errno and text. EOF while waiting is an Error too (ECHILD), as is the
// peer's exit with a message of ours unread (ECONNRESET from the kernel).
//
// A waiter (set_waiter) bounds the waits of one end: it is called before each
// receive and returns once the socket is readable, or throws to give up.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace urun::runtime {

enum class Msg : uint32_t {
  kNeedIdMaps = 1,
  kIdMapsDone,
  kMountFd,
  kInitPid,
  kRunHooks,
  kHooksDone,
  kReady,
  kStart,
  kLog,
  kError,
  kSeccompListener,
  kTerminal,
  kCgroupMount,
  kDeviceFd,
};

struct Frame {
  Msg type{};
  int32_t err = 0;
  std::string payload;
  UniqueFd fd;  // passed with SCM_RIGHTS, when the sender attached one
};

// A kLog frame (level byte + text) written to urun's log.
void write_log_frame(const Frame& f);

class SyncChannel {
 public:
  SyncChannel() = default;
  explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}
  // A connected pair; both ends O_CLOEXEC.
  static void make_pair(SyncChannel& parent_end, SyncChannel& child_end);

  int fd() const { return fd_.get(); }
  UniqueFd& owned_fd() { return fd_; }
  void close() { fd_.reset(); }

  // Throws Error on failure (EPIPE when the peer is gone).
  void send(Msg type, std::string_view payload = {}, int32_t err = 0) const;
  // Sends `fd` along with the message (SCM_RIGHTS); the receiver gets its own copy.
  void send_fd(Msg type, int fd, std::string_view payload = {}) const;
  // Never throws: for the child's error path and log lines, where the parent
  // may already be gone. Returns false when the message could not be sent.
  bool try_send(Msg type, std::string_view payload = {}, int32_t err = 0) const noexcept;
  void send_error(int32_t err, std::string_view message) const noexcept {
    try_send(Msg::kError, message, err);
  }
  void send_log(log::Level level, std::string_view message) const noexcept;

  // Called with fd() before each receive; returns once it is readable or throws.
  void set_waiter(std::function<void(int fd)> waiter) { waiter_ = std::move(waiter); }

  // Next frame; throws Error("... closed") on EOF.
  Frame receive() const;
  // Next frame, or nullopt on EOF: for the ends where EOF is the good news (the process
  // exec'd: the channel is close-on-exec), without an exception's cost (the unwinder's code
  // and tables paged in: peak RSS of `urun run`).
  std::optional<Frame> receive_unless_closed() const;
  // Waits for `type`, forwarding logs and rethrowing errors (see above).
  std::string expect(Msg type) const;
  // The same, keeping the whole frame (for a frame that carries an fd).
  Frame expect_frame(Msg type) const;

 private:
  UniqueFd fd_;
  std::function<void(int fd)> waiter_;
};

}  // namespace urun::runtime
