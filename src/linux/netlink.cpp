#include "linux/netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fd_passing.hpp"

namespace urun::linux::netlink {
namespace {

UniqueFd open_route_socket() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) throw_errno("open a netlink socket");
  return fd;
}

// Request builder: nlmsghdr, a fixed payload (ifinfomsg, ifaddrmsg), then attributes.
template <typename Payload>
std::vector<char> message(uint16_t type, uint16_t flags, const Payload& payload) {
  std::vector<char> msg(NLMSG_SPACE(sizeof(Payload)), 0);
  auto* h = reinterpret_cast<nlmsghdr*>(msg.data());
  h->nlmsg_len = NLMSG_LENGTH(sizeof(Payload));
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  std::memcpy(NLMSG_DATA(h), &payload, sizeof payload);
  return msg;
}

void add_attr(std::vector<char>& msg, uint16_t type, const void* data, size_t len) {
  const size_t at = NLMSG_ALIGN(reinterpret_cast<nlmsghdr*>(msg.data())->nlmsg_len);
  msg.resize(at + RTA_SPACE(len), 0);
  auto* rta = reinterpret_cast<rtattr*>(msg.data() + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  reinterpret_cast<nlmsghdr*>(msg.data())->nlmsg_len = static_cast<uint32_t>(at + RTA_SPACE(len));
}

// The attributes after a fixed payload of `payload_size` bytes.
template <typename F>
void for_each_attr(const nlmsghdr* h, size_t payload_size, F&& f) {
  const auto* rta = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(NLMSG_DATA(h)) +
                                                    NLMSG_ALIGN(payload_size));
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(payload_size));
  for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
    f(rta->rta_type, std::string_view(static_cast<const char*>(RTA_DATA(rta)), RTA_PAYLOAD(rta)));
}

ifinfomsg link_payload(int index) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  return ifi;
}

}  // namespace

std::string Address::text() const {
  for (uint16_t want : {uint16_t(IFA_LOCAL), uint16_t(IFA_ADDRESS)})
    for (const auto& [type, data] : attrs) {
      if (type != want) continue;
      char buf[INET6_ADDRSTRLEN] = {};
      if (::inet_ntop(family, data.data(), buf, sizeof buf))
        return std::string(buf) + "/" + std::to_string(prefixlen);
    }
  return "?/" + std::to_string(prefixlen);
}

RouteSocket::RouteSocket() : fd_(open_route_socket()) {}

RouteSocket RouteSocket::in_namespace(int netns_fd) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    throw_errno("open a netlink socket in the container's network namespace");
  UniqueFd ours(pair[0]), theirs(pair[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork to enter the container's network namespace");
  if (pid == 0) {
    // Async-signal-safe calls only: the runtime may have threads.
    int err = 0;
    int sock = -1;
    if (::setns(netns_fd, CLONE_NEWNET) < 0) {
      err = errno;
    } else {
      sock = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
      if (sock < 0) err = errno;
    }
    iovec iov{&err, sizeof err};
    _exit(send_with_fd(theirs.get(), &iov, 1, sock) < 0 ? 1 : 0);
  }
  theirs.reset();
  int err = 0;
  UniqueFd sock;
  const ssize_t n = receive_with_fd(ours.get(), &err, sizeof err, sock);
  const int recv_errno = errno;
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  const std::string what = "enter the container's network namespace";
  if (n < 0) throw_errno(what, recv_errno);
  if (n != sizeof err) throw Error(what + ": the helper process failed", EPROTO);
  if (err != 0) throw_errno(what, err);
  if (!sock) throw Error(what + ": no socket from the helper process", EPROTO);
  return RouteSocket(std::move(sock));
}

template <typename F>
void RouteSocket::transact(std::vector<char>& msg, const std::string& what, F&& on_reply) {
  auto* req = reinterpret_cast<nlmsghdr*>(msg.data());
  req->nlmsg_seq = ++seq_;
  const bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd_.get(), msg.data(), req->nlmsg_len, 0,
                    reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) throw_errno(what);
  std::vector<char> buf(32768);
  for (;;) {
    ssize_t n;
    do {
      n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno(what);
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq_) continue;
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) return;  // the ack
        throw_errno(what, -e->error);
      }
      on_reply(h);
      // A plain get answers with one message and no ack.
      if (!dump && !(req->nlmsg_flags & NLM_F_ACK)) return;
    }
  }
}

int RouteSocket::link_index(const std::string& name) {
  std::vector<char> msg = message(RTM_GETLINK, 0, link_payload(0));
  add_attr(msg, IFLA_IFNAME, name.c_str(), name.size() + 1);
  int index = -1;
  try {
    transact(msg, "look up network device " + quote(name), [&](const nlmsghdr* h) {
      if (h->nlmsg_type == RTM_NEWLINK)
        index = static_cast<const ifinfomsg*>(NLMSG_DATA(h))->ifi_index;
    });
  } catch (const Error& e) {
    if (e.code() == ENODEV) return -1;
    throw;
  }
  return index;
}

std::string RouteSocket::link_name(int index) {
  std::vector<char> msg = message(RTM_GETLINK, 0, link_payload(index));
  std::string name;
  try {
    transact(msg, "look up network device " + std::to_string(index), [&](const nlmsghdr* h) {
      if (h->nlmsg_type != RTM_NEWLINK) return;
      for_each_attr(h, sizeof(ifinfomsg), [&](uint16_t type, std::string_view data) {
        if (type == IFLA_IFNAME) name = std::string(data.substr(0, data.find('\0')));
      });
    });
  } catch (const Error& e) {
    if (e.code() == ENODEV) return "";
    throw;
  }
  return name;
}

std::vector<Address> RouteSocket::permanent_global_addresses(int index) {
  ifaddrmsg any{};
  any.ifa_family = AF_UNSPEC;
  std::vector<char> msg = message(RTM_GETADDR, NLM_F_DUMP, any);
  std::vector<Address> out;
  transact(msg, "list the addresses of network device " + std::to_string(index),
           [&](const nlmsghdr* h) {
             if (h->nlmsg_type != RTM_NEWADDR) return;
             const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
             if (static_cast<int>(ifa->ifa_index) != index) return;
             Address a;
             a.family = ifa->ifa_family;
             a.prefixlen = ifa->ifa_prefixlen;
             a.scope = ifa->ifa_scope;
             a.flags = ifa->ifa_flags;
             for_each_attr(h, sizeof(ifaddrmsg), [&](uint16_t type, std::string_view data) {
               // IFA_FLAGS holds all the flags (ifa_flags only the low eight).
               if (type == IFA_FLAGS && data.size() >= sizeof(uint32_t))
                 std::memcpy(&a.flags, data.data(), sizeof(uint32_t));
               if (type == IFA_ADDRESS || type == IFA_LOCAL || type == IFA_BROADCAST)
                 a.attrs.emplace_back(type, std::string(data));
             });
             if (a.scope == RT_SCOPE_UNIVERSE && (a.flags & IFA_F_PERMANENT)) out.push_back(a);
           });
  return out;
}

void RouteSocket::move_link(int index, int netns_fd, const std::string& new_name) {
  std::vector<char> msg = message(RTM_NEWLINK, NLM_F_ACK, link_payload(index));
  uint32_t fd = static_cast<uint32_t>(netns_fd);
  add_attr(msg, IFLA_NET_NS_FD, &fd, sizeof fd);
  add_attr(msg, IFLA_IFNAME, new_name.c_str(), new_name.size() + 1);
  transact(msg, "move the link", [](const nlmsghdr*) {});
}

void RouteSocket::add_address(int index, const Address& address) {
  ifaddrmsg ifa{};
  ifa.ifa_family = address.family;
  ifa.ifa_prefixlen = address.prefixlen;
  ifa.ifa_scope = address.scope;
  ifa.ifa_index = static_cast<uint32_t>(index);
  std::vector<char> msg = message(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ifa);
  for (const auto& [type, data] : address.attrs) add_attr(msg, type, data.data(), data.size());
  transact(msg, "add address " + address.text(), [](const nlmsghdr*) {});
}

void RouteSocket::set_up(int index) {
  ifinfomsg ifi = link_payload(index);
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;
  std::vector<char> msg = message(RTM_NEWLINK, NLM_F_ACK, ifi);
  transact(msg, "set the link up", [](const nlmsghdr*) {});
}

}  // namespace urun::linux::netlink
