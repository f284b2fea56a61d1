// run.urun.network* annotations: port specs, options, the helpers' command lines, the
// slirp4netns API messages (network/config.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "network/config.hpp"
#include "network/keeper.hpp"
#include "network/plan.hpp"

namespace {

using urun::Error;
using namespace urun::network;

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EINVAL) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(NetworkPorts, HostPortAndContainerPortDefaultToLoopbackTcp) {
  PortMapping p = parse_port("8080:80");
  EXPECT_EQ(p.host_addr, "127.0.0.1");
  EXPECT_EQ(p.host_port, 8080);
  EXPECT_EQ(p.container_port, 80);
  EXPECT_FALSE(p.udp);
  EXPECT_EQ(p.to_string(), "127.0.0.1:8080:80/tcp");
}

TEST(NetworkPorts, AddressAndProtocol) {
  PortMapping p = parse_port(" 0.0.0.0:53:5353/udp ");
  EXPECT_EQ(p.host_addr, "0.0.0.0");
  EXPECT_EQ(p.host_port, 53);
  EXPECT_EQ(p.container_port, 5353);
  EXPECT_TRUE(p.udp);
  EXPECT_EQ(parse_port("1:2/tcp").udp, false);
  PortMapping v6 = parse_port("[::1]:8443:443");
  EXPECT_EQ(v6.host_addr, "::1");
  EXPECT_TRUE(v6.ipv6());
  EXPECT_EQ(v6.to_string(), "[::1]:8443:443/tcp");
}

TEST(NetworkPorts, BadSpecsNameTheAnnotationAndTheText) {
  for (const char* bad : {"",
                          "80",
                          "a:80",
                          "80:b",
                          "0:80",
                          "80:0",
                          "65536:80",
                          "80:65536",
                          "-1:80",
                          "+80:80",
                          " 8 0:80",
                          "80:80/sctp",
                          "80:80/",
                          "1.2.3:80:80",
                          "localhost:80:80",
                          "[::1:80:80",
                          "[::1]80:80",
                          "1:2:3:4",
                          "127.0.0.1:80:80:90",
                          "[zz]:80:80",
                          "99999999999:80"}) {
    std::string msg = error_of([&] { parse_port(bad); });
    EXPECT_NE(msg.find("run.urun.network.ports"), std::string::npos) << bad << ": " << msg;
  }
  EXPECT_NE(error_of([] { parse_port("70000:80"); }).find("`70000` is not 1-65535"),
            std::string::npos);
}

TEST(NetworkPorts, ListsAndDuplicates) {
  auto ports = parse_ports("8080:80, 127.0.0.1:5353:53/udp,8080:80/udp");
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[1].to_string(), "127.0.0.1:5353:53/udp");
  EXPECT_TRUE(parse_ports("").empty());
  EXPECT_TRUE(parse_ports("  ").empty());
  // The same host port twice (same address and protocol) cannot be bound twice.
  EXPECT_NE(error_of([] { parse_ports("8080:80,8080:81"); }).find("published twice"),
            std::string::npos);
  EXPECT_NO_THROW(parse_ports("127.0.0.1:8080:80,127.0.0.2:8080:80"));
  error_of([] { parse_ports("8080:80,,9090:90"); });
}

TEST(NetworkOptions, DefaultsAndValues) {
  Options d = parse_options("", Mode::slirp4netns);
  EXPECT_EQ(d.mtu, 65520);
  EXPECT_TRUE(d.allow_host_loopback);
  EXPECT_FALSE(d.enable_ipv6);
  EXPECT_FALSE(d.cidr_set);
  Options o = parse_options("mtu=1500, allow_host_loopback=false,cidr=10.9.0.0/24,enable_ipv6=true",
                            Mode::slirp4netns);
  EXPECT_EQ(o.mtu, 1500);
  EXPECT_FALSE(o.allow_host_loopback);
  EXPECT_EQ(o.cidr, "10.9.0.0/24");
  EXPECT_TRUE(o.cidr_set);
  EXPECT_TRUE(o.enable_ipv6);
  for (const char* bad :
       {"mtu", "mtu=", "mtu=67", "mtu=65522", "mtu=1e3", "cidr=10.0.2.1/24", "cidr=10.0.2.0/26",
        "cidr=10.0.2.0", "cidr=fd00::/64", "allow_host_loopback=yes", "colour=blue"}) {
    std::string msg = error_of([&] { parse_options(bad, Mode::slirp4netns); });
    EXPECT_NE(msg.find("run.urun.network.options"), std::string::npos) << bad << ": " << msg;
  }
  error_of([] { parse_options("cidr=10.0.2.0/24", Mode::pasta); });
  error_of([] { parse_options("enable_ipv6=true", Mode::pasta); });
}

TEST(NetworkOptions, SlirpAddressesFollowTheNetwork) {
  SlirpAddresses a = slirp_addresses("10.0.2.0/24");
  EXPECT_EQ(a.gateway, "10.0.2.2");
  EXPECT_EQ(a.dns, "10.0.2.3");
  EXPECT_EQ(a.guest, "10.0.2.100");
  EXPECT_EQ(a.prefix, 24);
  SlirpAddresses b = slirp_addresses("172.16.0.0/16");
  EXPECT_EQ(b.gateway, "172.16.0.2");
  EXPECT_EQ(b.guest, "172.16.0.100");
}

TEST(NetworkAnnotations, ModeAndEverythingChecked) {
  EXPECT_EQ(parse_annotations({}).mode, Mode::none);
  EXPECT_EQ(parse_annotations({{kModeAnnotation, "none"}}).mode, Mode::none);
  NetworkConfig c = parse_annotations(
      {{kModeAnnotation, "slirp4netns"}, {kPortsAnnotation, "8080:80"}, {"other", "x"}});
  EXPECT_EQ(c.mode, Mode::slirp4netns);
  ASSERT_EQ(c.ports.size(), 1u);
  EXPECT_EQ(parse_annotations({{kModeAnnotation, "pasta"}}).mode, Mode::pasta);
  EXPECT_NE(error_of([] {
              parse_annotations({{kModeAnnotation, "vde"}});
            }).find("`vde`"),
            std::string::npos);
  // A bad port list is refused even while the network is off.
  error_of([] { parse_annotations({{kPortsAnnotation, "x"}}); });
  // slirp4netns forwards IPv6 host addresses only with IPv6 on.
  error_of([] {
    parse_annotations({{kModeAnnotation, "slirp4netns"}, {kPortsAnnotation, "[::1]:80:80"}});
  });
  EXPECT_NO_THROW(parse_annotations({{kModeAnnotation, "slirp4netns"},
                                     {kPortsAnnotation, "[::1]:80:80"},
                                     {kOptionsAnnotation, "enable_ipv6=true"}}));
}

TEST(NetworkHelpers, Slirp4netnsCommandLine) {
  NetworkConfig c;
  c.mode = Mode::slirp4netns;
  auto a = slirp4netns_args("/usr/bin/slirp4netns", c, 1234, 3, 4, "s.sock");
  EXPECT_EQ(a.front(), "/usr/bin/slirp4netns");
  EXPECT_EQ(a[a.size() - 2], "1234");
  EXPECT_EQ(a.back(), "tap0");
  for (const char* want :
       {"--configure", "--mtu=65520", "--exit-fd=3", "--ready-fd=4", "--api-socket=s.sock"})
    EXPECT_TRUE(has(a, want)) << want;
  // The host's loopback is reachable at the gateway unless turned off.
  EXPECT_FALSE(has(a, "--disable-host-loopback"));
  c.options = parse_options("allow_host_loopback=false,cidr=10.9.0.0/24,enable_ipv6=true",
                            Mode::slirp4netns);
  a = slirp4netns_args("s", c, 1, 3, 4, "");
  EXPECT_TRUE(has(a, "--disable-host-loopback"));
  EXPECT_TRUE(has(a, "--cidr=10.9.0.0/24"));
  EXPECT_TRUE(has(a, "--enable-ipv6"));
  EXPECT_FALSE(std::any_of(a.begin(), a.end(), [](auto& s) { return s.starts_with("--api"); }));
}

TEST(NetworkHelpers, PastaCommandLinePublishesOnlyTheGivenPorts) {
  NetworkConfig c;
  c.mode = Mode::pasta;
  auto a = pasta_args("/usr/bin/pasta", c, 99, "/s/pasta.pid", "");
  auto after = [&](const std::string& flag) {
    auto it = std::find(a.begin(), a.end(), flag);
    return it == a.end() || it + 1 == a.end() ? std::string("<absent>") : *(it + 1);
  };
  EXPECT_EQ(after("-t"), "none");
  EXPECT_EQ(after("-u"), "none");
  EXPECT_EQ(after("-T"), "none");
  EXPECT_EQ(after("-U"), "none");
  EXPECT_EQ(after("--pid"), "/s/pasta.pid");
  EXPECT_TRUE(has(a, "--config-net"));
  EXPECT_EQ(a.back(), "99");
  c.ports = parse_ports("8080:80,127.0.0.1:9090:90,5353:53/udp");
  a = pasta_args("p", c, 99, "f", "");
  EXPECT_EQ(after("-t"), "127.0.0.1/8080:80,127.0.0.1/9090:90");
  EXPECT_EQ(after("-u"), "127.0.0.1/5353:53");
}

TEST(NetworkHelpers, Slirp4netnsApiMessages) {
  auto req = nlohmann::json::parse(hostfwd_request(parse_port("127.0.0.1:8080:80/udp")));
  EXPECT_EQ(req["execute"], "add_hostfwd");
  EXPECT_EQ(req["arguments"]["proto"], "udp");
  EXPECT_EQ(req["arguments"]["host_addr"], "127.0.0.1");
  EXPECT_EQ(req["arguments"]["host_port"], 8080);
  EXPECT_EQ(req["arguments"]["guest_port"], 80);
  EXPECT_EQ(hostfwd_reply_error(R"({"return": {"id": 1}})"), "");
  EXPECT_EQ(hostfwd_reply_error(
                R"({"error": {"desc": "bad request: add_hostfwd: slirp_add_hostfwd failed"}})"),
            "bad request: add_hostfwd: slirp_add_hostfwd failed");
  EXPECT_NE(hostfwd_reply_error(""), "");
  EXPECT_NE(hostfwd_reply_error("[1]"), "");
}

TEST(NetworkKeeper, ReportLine) {
  EXPECT_EQ(parse_report("ok 4242"), 4242);
  try {
    parse_report("error slirp4netns exited with status 1: open tun: Permission denied");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "slirp4netns exited with status 1: open tun: Permission denied");
  }
  EXPECT_THROW(parse_report(""), Error);
  EXPECT_THROW(parse_report("ok x"), Error);
}

}  // namespace

// Whether urun starts a helper (network/plan.hpp).
namespace {

urun::spec::Spec spec_with(const char* ns_path, bool with_netns, const char* mode) {
  urun::spec::Spec s;
  s.linux.emplace();
  if (with_netns) s.linux->namespaces.push_back({"network", ns_path});
  if (mode) s.annotations["run.urun.network"] = mode;
  return s;
}

TEST(NetworkPlan, OnlyForAnUnprivilegedCallersNewNetworkNamespace) {
  using urun::network::plan_network;
  // No annotation, or none.
  EXPECT_FALSE(plan_network(spec_with("", true, nullptr), true));
  EXPECT_FALSE(plan_network(spec_with("", true, "none"), true));
  // Root: its containers' network is set up by whoever runs them.
  EXPECT_FALSE(plan_network(spec_with("", true, "slirp4netns"), false));
  // The caller's network namespace, or one joined by path (Podman, containerd).
  EXPECT_FALSE(plan_network(spec_with("", false, "slirp4netns"), true));
  EXPECT_FALSE(plan_network(spec_with("/run/netns/x", true, "slirp4netns"), true));
  // A bad annotation is an error whoever runs it.
  auto bad = spec_with("", true, "slirp4netns");
  bad.annotations["run.urun.network.ports"] = "80";
  EXPECT_THROW(plan_network(bad, false), urun::Error);
  if (urun::network::find_helper("slirp4netns").empty())
    GTEST_SKIP() << "slirp4netns is not installed (scripts/install-deps installs it)";
  auto plan = plan_network(spec_with("", true, "slirp4netns"), true);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->program.ends_with("/slirp4netns")) << plan->program;
  EXPECT_EQ(plan->config.mode, urun::network::Mode::slirp4netns);
}

}  // namespace
