// linux/net_devices: interface names as the kernel takes them and linux.netDevices' checks.
// Pure: nothing is moved.
#include "linux/net_devices.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace {

using nlohmann::json;
using urun::linux::valid_ifname;

urun::spec::Spec spec_with(const json& devices, const json& namespaces) {
  json j = {{"ociVersion", "1.3.0"},
            {"process", {{"args", {"sh"}}, {"cwd", "/"}}},
            {"root", {{"path", "rootfs"}}},
            {"linux", {{"namespaces", namespaces}, {"netDevices", devices}}}};
  return urun::spec::from_json(j);
}

const json kNewNet = json::array({{{"type", "network"}}});

std::string error_of(const json& devices, const json& namespaces = kNewNet) {
  try {
    urun::linux::parse_net_devices(spec_with(devices, namespaces));
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), EINVAL) << e.what();
    return e.what();
  }
  return "<valid>";
}

TEST(NetDevices, KernelNameRules) {
  EXPECT_TRUE(valid_ifname("eth0"));
  EXPECT_TRUE(valid_ifname("a"));
  EXPECT_TRUE(valid_ifname("ctr%d"));
  EXPECT_TRUE(valid_ifname("fifteen-chars15"));
  EXPECT_FALSE(valid_ifname("sixteen-chars-16"));
  EXPECT_FALSE(valid_ifname(""));
  EXPECT_FALSE(valid_ifname("."));
  EXPECT_FALSE(valid_ifname(".."));
  EXPECT_FALSE(valid_ifname("a/b"));
  EXPECT_FALSE(valid_ifname("eth0:1"));
  EXPECT_FALSE(valid_ifname("a b"));
  EXPECT_FALSE(valid_ifname("a\tb"));
  EXPECT_FALSE(valid_ifname(std::string("a\0b", 3)));
}

TEST(NetDevices, ParsesNamesDefaultingToTheHostName) {
  auto list = urun::linux::parse_net_devices(
      spec_with({{"veth0", json::object()}, {"veth1", {{"name", "eth0"}}}}, kNewNet));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].host_name, "veth0");
  EXPECT_EQ(list[0].name, "veth0");
  EXPECT_EQ(list[1].host_name, "veth1");
  EXPECT_EQ(list[1].name, "eth0");
  // A network namespace joined by path is the container's too (runc moves into it).
  EXPECT_EQ(error_of({{"veth0", json::object()}},
                     json::array({{{"type", "network"}, {"path", "/run/netns/x"}}})),
            "<valid>");
  EXPECT_TRUE(urun::linux::parse_net_devices(spec_with(json::object(), json::array())).empty());
}

TEST(NetDevices, RefusesWhatCannotBeMoved) {
  EXPECT_EQ(error_of({{"veth0", json::object()}}, json::array()),
            "linux.netDevices: requires the container's own network namespace (a \"network\" "
            "entry in linux.namespaces); without one the devices would stay where they are");
  EXPECT_EQ(error_of({{"veth0", json::object()}},
                     json::array({{{"type", "network"}, {"path", "/proc/self/ns/net"}}})),
            "linux.netDevices: the network namespace `/proc/self/ns/net` is the runtime's own: "
            "the devices would not move");
  EXPECT_EQ(error_of({{"bad/name", json::object()}}),
            "linux.netDevices[\"bad/name\"]: `bad/name` is not a valid network device name");
  EXPECT_EQ(error_of({{"eth%d", json::object()}}),
            "linux.netDevices[\"eth%d\"]: `eth%d` is not a valid network device name");
  EXPECT_EQ(error_of({{"veth0", {{"name", "much-too-long-name"}}}}),
            "linux.netDevices[\"veth0\"].name: `much-too-long-name` is not a valid network device "
            "name");
  EXPECT_EQ(error_of({{"veth0", {{"name", 3}}}}),
            "linux.netDevices[\"veth0\"].name: must be a string");
  EXPECT_EQ(error_of({{"veth0", "eth0"}}), "linux.netDevices[\"veth0\"]: must be an object");
  EXPECT_EQ(error_of(json::array()), "linux.netDevices: must be an object");
  // Two devices cannot both be eth0 in the container; templates get free names.
  EXPECT_EQ(error_of({{"veth0", {{"name", "eth0"}}}, {"veth1", {{"name", "eth0"}}}}),
            "linux.netDevices[\"veth1\"].name: another device is already named `eth0` in the "
            "container");
  EXPECT_EQ(error_of({{"eth0", json::object()}, {"veth1", {{"name", "eth0"}}}}),
            "linux.netDevices[\"veth1\"].name: another device is already named `eth0` in the "
            "container");
  EXPECT_EQ(error_of({{"veth0", {{"name", "ctr%d"}}}, {"veth1", {{"name", "ctr%d"}}}}), "<valid>");
}

TEST(NetDevices, AMissingHostDeviceIsReportedBeforeAnythingIsMade) {
  try {
    urun::linux::check_net_devices_exist({{"urun-no-such0", "eth0"}});
    ADD_FAILURE() << "a missing device was accepted";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), ENODEV);
    EXPECT_STREQ(e.what(),
                 "linux.netDevices: network device `urun-no-such0` does not exist in the "
                 "runtime's network namespace");
  }
  EXPECT_NO_THROW(urun::linux::check_net_devices_exist({{"lo", "lo"}}));
}

}  // namespace
