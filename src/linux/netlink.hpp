#pragma once
// A minimal rtnetlink client for linux.netDevices: look links up, list their addresses, move a
// link into another network namespace (renaming it in the same request), add addresses and set
// a link up. A socket works in the network namespace it was made in, whoever uses it later:
// RouteSocket::in_namespace makes one inside the container's namespace from a helper process,
// so that the runtime itself never leaves its own.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.hpp"

namespace urun::linux::netlink {

// An address of a link as RTM_NEWADDR gives it: enough to add it again elsewhere.
struct Address {
  uint8_t family = 0;
  uint8_t prefixlen = 0;
  uint8_t scope = 0;
  uint32_t flags = 0;
  std::vector<std::pair<uint16_t, std::string>> attrs;  // IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST
  std::string text() const;                             // "10.1.2.3/24", for messages
};

class RouteSocket {
 public:
  // A NETLINK_ROUTE socket in the caller's network namespace.
  RouteSocket();
  // One in the network namespace `netns_fd` names, made by a forked helper that enters it.
  static RouteSocket in_namespace(int netns_fd);

  // The link's index; -1 when there is no such link.
  int link_index(const std::string& name);
  // The link's name; "" when there is no such link.
  std::string link_name(int index);
  // Addresses the spec says a move preserves: permanent (IFA_F_PERMANENT) and of global scope.
  std::vector<Address> permanent_global_addresses(int index);
  // Moves the link into the namespace of `netns_fd`, named `new_name` there (one request, so the
  // name never clashes on the way).
  void move_link(int index, int netns_fd, const std::string& new_name);
  void add_address(int index, const Address& address);
  void set_up(int index);

 private:
  explicit RouteSocket(UniqueFd fd) : fd_(std::move(fd)) {}
  // Sends one request and reads its replies until the ack (or, for a dump, NLMSG_DONE); each
  // reply message other than those goes to `on_reply`. Throws Error(what) on a netlink error.
  template <typename F>
  void transact(std::vector<char>& msg, const std::string& what, F&& on_reply);
  UniqueFd fd_;
  uint32_t seq_ = 0;
};

}  // namespace urun::linux::netlink
