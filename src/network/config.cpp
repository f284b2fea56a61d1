#include "network/config.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace urun::network {
namespace {

[[noreturn]] void bad(const char* annotation, std::string_view text, const std::string& why) {
  throw Error("annotation " + quote(annotation) + ": " + quote(text) + ": " + why, EINVAL);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// Digits only (no sign, no spaces): what from_chars alone would let through is refused.
bool parse_uint(std::string_view s, unsigned long max, unsigned long& out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out <= max;
}

uint16_t parse_port_number(std::string_view port, std::string_view whole, const char* which) {
  unsigned long n = 0;
  if (!parse_uint(port, 65535, n) || n == 0)
    bad(kPortsAnnotation, whole, std::string(which) + " port " + quote(port) + " is not 1-65535");
  return static_cast<uint16_t>(n);
}

bool parse_bool(std::string_view value, std::string_view item) {
  if (value == "true") return true;
  if (value == "false") return false;
  bad(kOptionsAnnotation, item, "want true or false");
}

std::string ipv4_to_string(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  return ::inet_ntop(AF_INET, &a, buf, sizeof buf);
}

}  // namespace

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::slirp4netns:
      return "slirp4netns";
    case Mode::pasta:
      return "pasta";
    case Mode::none:
      break;
  }
  return "none";
}

std::string PortMapping::to_string() const {
  std::string addr = ipv6() ? "[" + host_addr + "]" : host_addr;
  return addr + ":" + std::to_string(host_port) + ":" + std::to_string(container_port) +
         (udp ? "/udp" : "/tcp");
}

Mode parse_mode(std::string_view text) {
  std::string_view t = trim(text);
  if (t == "slirp4netns") return Mode::slirp4netns;
  if (t == "pasta") return Mode::pasta;
  if (t == "none" || t.empty()) return Mode::none;
  bad(kModeAnnotation, text, "want slirp4netns, pasta or none");
}

PortMapping parse_port(std::string_view text) {
  std::string_view spec = trim(text);
  PortMapping p;
  if (size_t slash = spec.rfind('/'); slash != std::string_view::npos) {
    std::string_view proto = spec.substr(slash + 1);
    if (proto == "udp") {
      p.udp = true;
    } else if (proto != "tcp") {
      bad(kPortsAnnotation, text, "protocol " + quote(proto) + " is not tcp or udp");
    }
    spec = spec.substr(0, slash);
  }
  std::string addr;
  bool has_addr = false;
  if (spec.starts_with('[')) {
    size_t close = spec.find(']');
    if (close == std::string_view::npos || spec.substr(close + 1, 1) != ":")
      bad(kPortsAnnotation, text, "want [IPV6]:HOSTPORT:CONTAINERPORT");
    addr = spec.substr(1, close - 1);
    has_addr = true;
    spec = spec.substr(close + 2);
  }
  std::vector<std::string_view> parts = split(spec, ':');
  if (!has_addr && parts.size() == 3) {
    addr = parts[0];
    has_addr = true;
    parts.erase(parts.begin());
  }
  if (parts.size() != 2)
    bad(kPortsAnnotation, text, "want [HOSTADDR:]HOSTPORT:CONTAINERPORT[/tcp|/udp]");
  if (has_addr) {
    unsigned char buf[sizeof(in6_addr)];
    bool v4 = ::inet_pton(AF_INET, addr.c_str(), buf) == 1;
    if (!v4 && ::inet_pton(AF_INET6, addr.c_str(), buf) != 1)
      bad(kPortsAnnotation, text, "host address " + quote(addr) + " is not a numeric IP address");
    p.host_addr = addr;
  }
  p.host_port = parse_port_number(parts[0], text, "host");
  p.container_port = parse_port_number(parts[1], text, "container");
  return p;
}

std::vector<PortMapping> parse_ports(std::string_view text) {
  std::vector<PortMapping> out;
  if (trim(text).empty()) return out;
  for (std::string_view item : split(text, ',')) {
    PortMapping p = parse_port(item);
    for (const PortMapping& q : out)
      if (q.udp == p.udp && q.host_port == p.host_port && q.host_addr == p.host_addr)
        bad(kPortsAnnotation, item,
            "host port " + std::to_string(p.host_port) + "/" + (p.udp ? "udp" : "tcp") +
                " is published twice");
    out.push_back(std::move(p));
  }
  return out;
}

Options parse_options(std::string_view text, Mode mode) {
  Options o;
  if (trim(text).empty()) return o;
  for (std::string_view raw : split(text, ',')) {
    std::string_view item = trim(raw);
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (eq == std::string_view::npos) bad(kOptionsAnnotation, item, "want NAME=VALUE");
    if (key == "mtu") {
      unsigned long n = 0;
      // 68: the IPv4 minimum; 65521: slirp4netns's maximum.
      if (!parse_uint(value, 65521, n) || n < 68)
        bad(kOptionsAnnotation, item, "mtu is not 68-65521");
      o.mtu = static_cast<int>(n);
    } else if (key == "cidr") {
      if (mode == Mode::pasta) bad(kOptionsAnnotation, item, "pasta takes the host's addresses");
      o.cidr = value;
      o.cidr_set = true;
      try {
        slirp_addresses(o.cidr);
      } catch (const Error& e) {
        bad(kOptionsAnnotation, item, e.message());
      }
    } else if (key == "allow_host_loopback") {
      o.allow_host_loopback = parse_bool(value, item);
    } else if (key == "enable_ipv6") {
      if (mode == Mode::pasta) bad(kOptionsAnnotation, item, "pasta decides IPv6 by the host's");
      o.enable_ipv6 = parse_bool(value, item);
    } else {
      bad(kOptionsAnnotation, item,
          "unknown option (known: mtu, cidr, allow_host_loopback, enable_ipv6)");
    }
  }
  return o;
}

SlirpAddresses slirp_addresses(const std::string& cidr) {
  size_t slash = cidr.find('/');
  unsigned long prefix = 0;
  in_addr a{};
  if (slash == std::string::npos || ::inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1 ||
      !parse_uint(std::string_view(cidr).substr(slash + 1), 32, prefix))
    throw Error("not an IPv4 network A.B.C.D/N", EINVAL);
  // Room for the guest at network + 100 and a broadcast address: at most /25.
  if (prefix > 25 || prefix < 1) throw Error("the prefix length is not 1-25", EINVAL);
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  uint32_t net = ntohl(a.s_addr);
  if ((net & ~mask) != 0) throw Error("host bits are set (want the network address)", EINVAL);
  SlirpAddresses out;
  out.network = ipv4_to_string(net);
  out.gateway = ipv4_to_string(net + 2);
  out.dns = ipv4_to_string(net + 3);
  out.guest = ipv4_to_string(net + 100);
  out.prefix = static_cast<int>(prefix);
  return out;
}

NetworkConfig parse_annotations(const std::map<std::string, std::string>& annotations) {
  NetworkConfig c;
  auto get = [&](const char* key) -> std::string_view {
    auto it = annotations.find(key);
    return it == annotations.end() ? std::string_view() : std::string_view(it->second);
  };
  c.mode = parse_mode(get(kModeAnnotation));
  // Checked even when the mode is none: a typo should not wait for the day it is switched on.
  c.ports = parse_ports(get(kPortsAnnotation));
  c.options = parse_options(get(kOptionsAnnotation), c.mode);
  if (c.mode == Mode::slirp4netns) {
    for (const PortMapping& p : c.ports)
      if (p.ipv6() && !c.options.enable_ipv6)
        bad(kPortsAnnotation, p.to_string(), "an IPv6 host address needs enable_ipv6=true");
  }
  return c;
}

std::vector<std::string> slirp4netns_args(const std::string& program, const NetworkConfig& c,
                                          pid_t pid, int exit_fd, int ready_fd,
                                          const std::string& api_socket) {
  std::vector<std::string> a = {program, "--configure", "--mtu=" + std::to_string(c.options.mtu),
                                "--exit-fd=" + std::to_string(exit_fd),
                                "--ready-fd=" + std::to_string(ready_fd)};
  if (!api_socket.empty()) a.push_back("--api-socket=" + api_socket);
  if (c.options.cidr_set) a.push_back("--cidr=" + c.options.cidr);
  if (!c.options.allow_host_loopback) a.push_back("--disable-host-loopback");
  if (c.options.enable_ipv6) a.push_back("--enable-ipv6");
  a.push_back(std::to_string(pid));
  a.push_back("tap0");
  return a;
}

std::vector<std::string> pasta_args(const std::string& program, const NetworkConfig& c, pid_t pid,
                                    const std::string& pid_file, const std::string& log_file) {
  std::vector<std::string> a = {
      program, "--config-net", "--quiet", "--mtu", std::to_string(c.options.mtu),
      "--pid", pid_file};
  if (!log_file.empty()) {
    a.push_back("--log-file");
    a.push_back(log_file);
  }
  // Only the published ports: pasta's default ("auto") would forward every port the container
  // binds, and every host port the container might want (-T, -U), which nobody asked for.
  std::string tcp, udp;
  for (const PortMapping& p : c.ports) {
    std::string& list = p.udp ? udp : tcp;
    if (!list.empty()) list += ',';
    list +=
        p.host_addr + "/" + std::to_string(p.host_port) + ":" + std::to_string(p.container_port);
  }
  for (const auto& [flag, list] : {std::pair{"-t", tcp}, {"-u", udp}}) {
    a.push_back(flag);
    a.push_back(list.empty() ? "none" : list);
  }
  for (const char* flag : {"-T", "-U"}) {
    a.push_back(flag);
    a.push_back("none");
  }
  if (!c.options.allow_host_loopback) a.push_back("--no-map-gw");
  a.push_back(std::to_string(pid));
  return a;
}

std::string hostfwd_request(const PortMapping& p) {
  nlohmann::json args = {{"proto", p.udp ? "udp" : "tcp"},
                         {"host_addr", p.host_addr},
                         {"host_port", p.host_port},
                         {"guest_port", p.container_port}};
  return nlohmann::json{{"execute", "add_hostfwd"}, {"arguments", args}}.dump();
}

std::string hostfwd_reply_error(std::string_view reply) {
  nlohmann::json j = nlohmann::json::parse(reply.begin(), reply.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "unexpected reply " + quote(reply);
  if (j.contains("return")) return "";
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    auto d = e->find("desc");
    if (d != e->end() && d->is_string()) return d->get<std::string>();
  }
  return "unexpected reply " + quote(reply);
}

}  // namespace urun::network
