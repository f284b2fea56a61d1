#include "linux/loopback.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace urun::linux {

void bring_up_loopback() {
  const char* what = "bring up the loopback interface `lo`";
  // Interface ioctls work on a socket of any family (netdevice(7)); the
  // socket's namespace is ours. AF_UNIX when the kernel has no IPv4.
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) sock.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno(what);
  // A new namespace's lo has no flags the call could lose (only IFF_LOOPBACK,
  // which the kernel keeps): no SIOCGIFFLAGS first.
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_UP | IFF_RUNNING;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) throw_errno(what);
}

}  // namespace urun::linux
