// A static program the network tests copy into a container (busybox's nc has no UDP):
//   net-probe send tcp|udp ADDR PORT MESSAGE   sends MESSAGE, prints the reply; exit 0 if any
//   net-probe serve tcp|udp PORT               answers each message M with "pong:M", forever
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int usage() {
  std::fprintf(stderr, "usage: net-probe send tcp|udp ADDR PORT MESSAGE | serve tcp|udp PORT\n");
  return 2;
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

int send_one(bool udp, const char* addr, int port, const std::string& msg) {
  int fd = ::socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, addr, &sa.sin_addr) != 1) return usage();
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    std::perror("connect");
    return 1;
  }
  if (::send(fd, msg.data(), msg.size(), 0) < 0) {
    std::perror("send");
    return 1;
  }
  if (!udp) ::shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[512];
  while (readable(fd, 5000)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, n);
    if (udp) break;
  }
  std::printf("%s\n", reply.c_str());
  return reply.empty() ? 1 : 0;
}

int serve(bool udp, int port) {
  int fd = ::socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
      (!udp && ::listen(fd, 8) < 0)) {
    std::perror("bind");
    return 1;
  }
  std::printf("listening %s %d\n", udp ? "udp" : "tcp", port);
  std::fflush(stdout);
  char buf[512];
  while (true) {
    if (udp) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      std::string r = "pong:" + std::string(buf, n);
      ::sendto(fd, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      continue;
    }
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) continue;
    std::string msg;
    while (readable(c, 5000)) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      msg.append(buf, n);
    }
    std::string r = "pong:" + msg;
    ::send(c, r.data(), r.size(), MSG_NOSIGNAL);
    ::close(c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  if (cmd == "send" && argc == 6)
    return send_one(std::string(argv[2]) == "udp", argv[3], std::atoi(argv[4]), argv[5]);
  if (cmd == "serve" && argc == 4) return serve(std::string(argv[2]) == "udp", std::atoi(argv[3]));
  return usage();
}
