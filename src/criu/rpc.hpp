#pragma once
// CRIU's RPC protocol (`criu swrk FD`, images/rpc.proto of CRIU): what the
// command line cannot do. A container with a terminal has its pty master
// outside (with the console socket's receiver), and only an RPC client can
// take CRIU's "orphan-pts-master" part: at dump CRIU then accepts the
// master's absence, at restore it makes a new pty and sends its master over
// the RPC socket (passed on to --console-socket).
//
// The requests are built from the same option words the command line uses
// (criu.hpp's Invocation), so that both ways describe a container alike; the
// protobuf wire format is small enough to write here (varints and
// length-delimited fields only).
#include <cstdint>
#include <string>
#include <vector>

namespace urun::criu {

// Protobuf wire format: field numbers of images/rpc.proto.
class Message {
 public:
  void varint(int field, uint64_t value);
  void boolean(int field, bool value) { varint(field, value ? 1 : 0); }
  void string(int field, const std::string& value);
  void message(int field, const Message& value) { string(field, value.bytes_); }
  const std::string& bytes() const { return bytes_; }

 private:
  void raw_varint(uint64_t value);
  std::string bytes_;
};

// req types of rpc.proto's criu_req_type.
enum class ReqType { dump = 1, restore = 2, pre_dump = 4, notify = 6 };

// The criu_req for `action` ("dump", "pre-dump", "restore") with the option
// words of the command line. images_fd and work_fd are fds CRIU inherits.
// Throws Error(EINVAL) for a word it does not know (a bug: every word urun
// passes has its field).
std::string build_request(const std::string& action, const std::vector<std::string>& words,
                          int images_fd, int work_fd, const std::string& log_file);

// The notify reply ("go on").
std::string notify_reply();

// What a criu_resp says.
struct Response {
  int type = 0;
  bool success = false;
  int restored_pid = 0;
  std::string notify_script;  // set for type notify
  int cr_errno = 0;
  std::string cr_errmsg;
};
// Throws Error(EPROTO) on bytes that are not a criu_resp.
Response parse_response(const std::string& bytes);

}  // namespace urun::criu
