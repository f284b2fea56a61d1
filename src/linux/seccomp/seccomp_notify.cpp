#include "linux/seccomp/seccomp_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/fd_passing.hpp"
#include "common/unique_fd.hpp"
#include "version.hpp"

namespace urun::linux {

std::string seccomp_process_state(pid_t pid, const std::string& metadata,
                                  const std::string& state_json, const char* status) {
  nlohmann::ordered_json j;
  j["ociVersion"] = kOciVersion;
  j["fds"] = {"seccompFd"};
  j["pid"] = pid;
  if (!metadata.empty()) j["metadata"] = metadata;
  j["state"] = nlohmann::ordered_json::parse(state_json.empty() ? "{}" : state_json);
  if (status != nullptr) j["state"]["status"] = status;
  return j.dump();
}

void send_seccomp_listener(const std::string& listener_path, int listener_fd,
                           const std::string& process_state) {
  const std::string what = "send the seccomp listener to " + quote(listener_path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (listener_path.size() >= sizeof addr.sun_path)
    throw Error(what + ": path too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, listener_path.c_str(), listener_path.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno(what);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) throw_errno(what);

  // The spec allows several sendmsg calls; the fd travels with the first.
  size_t done = 0;
  while (done < process_state.size()) {
    iovec iov{const_cast<char*>(process_state.data()) + done, process_state.size() - done};
    ssize_t n = send_with_fd(sock.get(), &iov, 1, done == 0 ? listener_fd : -1);
    if (n <= 0) throw_errno(what, n == 0 ? EPIPE : errno);
    done += static_cast<size_t>(n);
  }
}

}  // namespace urun::linux
