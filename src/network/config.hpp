#pragma once
// Rootless networking: what the `run.urun.network*` annotations ask for, parsed and checked
// before anything is created. Pure functions (no syscalls but address parsing), unit-tested.
//
//   run.urun.network          slirp4netns | pasta | none (absent: none)
//   run.urun.network.ports    [HOSTADDR:]HOSTPORT:CONTAINERPORT[/tcp|/udp], comma-separated;
//                             HOSTADDR defaults to 127.0.0.1 ([::1] for IPv6 in brackets)
//   run.urun.network.options  comma-separated: mtu=N, cidr=A.B.C.D/N (slirp4netns),
//                             allow_host_loopback=true|false, enable_ipv6=true|false
//                             (slirp4netns), the names Podman uses
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace urun::network {

inline constexpr const char* kModeAnnotation = "run.urun.network";
inline constexpr const char* kPortsAnnotation = "run.urun.network.ports";
inline constexpr const char* kOptionsAnnotation = "run.urun.network.options";
// Written by urun into the state's annotations once the helper runs.
inline constexpr const char* kPidAnnotation = "run.urun.network.pid";
inline constexpr const char* kAddressAnnotation = "run.urun.network.address";
inline constexpr const char* kGatewayAnnotation = "run.urun.network.gateway";
inline constexpr const char* kDnsAnnotation = "run.urun.network.dns";

enum class Mode { none, slirp4netns, pasta };
const char* to_string(Mode mode);

struct PortMapping {
  std::string host_addr = "127.0.0.1";  // numeric IPv4 or IPv6
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  bool udp = false;
  bool ipv6() const { return host_addr.find(':') != std::string::npos; }
  // The canonical form: "127.0.0.1:8080:80/tcp", "[::1]:8080:80/udp".
  std::string to_string() const;
};

struct Options {
  int mtu = 65520;
  std::string cidr = "10.0.2.0/24";  // slirp4netns only
  bool cidr_set = false;
  bool allow_host_loopback = true;  // the container reaches the host's 127.0.0.1 at the gateway
  bool enable_ipv6 = false;         // slirp4netns only
};

struct NetworkConfig {
  Mode mode = Mode::none;
  std::vector<PortMapping> ports;
  Options options;
};

// The addresses slirp4netns gives a network (its man page: network + 2, + 3, + 100).
struct SlirpAddresses {
  std::string network, gateway, dns, guest;
  int prefix = 24;
};

// Each throws Error(EINVAL) naming the annotation and the offending text.
Mode parse_mode(std::string_view text);
PortMapping parse_port(std::string_view text);
std::vector<PortMapping> parse_ports(std::string_view text);  // also refuses duplicates
Options parse_options(std::string_view text, Mode mode);
SlirpAddresses slirp_addresses(const std::string& cidr);
// All three annotations; mode none when run.urun.network is absent or "none".
NetworkConfig parse_annotations(const std::map<std::string, std::string>& annotations);

// slirp4netns's command line for the container whose init is `pid`: exit_fd and ready_fd are
// the fd numbers it will have, api_socket the socket path it binds.
std::vector<std::string> slirp4netns_args(const std::string& program, const NetworkConfig& config,
                                          pid_t pid, int exit_fd, int ready_fd,
                                          const std::string& api_socket);
// pasta's: it configures the namespace, forwards the ports, then goes to the background and
// writes its pid to pid_file; its first process exits 0 once all that is done.
std::vector<std::string> pasta_args(const std::string& program, const NetworkConfig& config,
                                    pid_t pid, const std::string& pid_file,
                                    const std::string& log_file);

// The slirp4netns API (a QMP-like JSON request per connection): the add_hostfwd request for
// one port, and the error its reply carries ("" on success).
std::string hostfwd_request(const PortMapping& port);
std::string hostfwd_reply_error(std::string_view reply);

}  // namespace urun::network
