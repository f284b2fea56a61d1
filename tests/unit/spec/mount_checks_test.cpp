// Mount-level checks shared by config validation and `urun mounts add`: id mappings of a mount
// (runtime-spec 1.2+), the nofollow pair, and the mount list format of `mounts add|remove`.
#include "spec/mount_checks.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "linux/mounts/mounts.hpp"
#include "spec/spec.hpp"

namespace {

using nlohmann::json;
using urun::spec::Mount;

Mount bind_mount(std::vector<std::string> options = {"bind"}) {
  Mount m;
  m.destination = "/data";
  m.source = "/srv";
  m.options = std::move(options);
  return m;
}

urun::spec::IdMapping map(uint32_t container_id, uint32_t host_id, uint32_t size) {
  return {container_id, host_id, size};
}

std::string check_error(const Mount& m) {
  try {
    urun::spec::check_mount(m, "mounts[3]");
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), EINVAL);
    return e.what();
  }
  return "<valid>";
}

TEST(MountChecks, MappingsOnABindMount) {
  Mount m = bind_mount();
  m.uid_mappings = {map(0, 100000, 65536)};
  m.gid_mappings = {map(0, 100000, 65536)};
  EXPECT_EQ(check_error(m), "<valid>");
  m.options = {"rbind", "ridmap"};
  EXPECT_EQ(check_error(m), "<valid>");
  m.options = {};
  m.type = "bind";
  EXPECT_EQ(check_error(m), "<valid>");
}

TEST(MountChecks, MappingsNeedBothSides) {
  Mount m = bind_mount();
  m.uid_mappings = {map(0, 100000, 65536)};
  EXPECT_EQ(check_error(m),
            "mounts[3]: an id-mapped mount needs both uidMappings and gidMappings, got only "
            "uidMappings");
  m.uid_mappings.clear();
  m.gid_mappings = {map(0, 100000, 65536)};
  EXPECT_EQ(check_error(m),
            "mounts[3]: an id-mapped mount needs both uidMappings and gidMappings, got only "
            "gidMappings");
}

TEST(MountChecks, MappingsOnlyOnBindMounts) {
  Mount m;
  m.destination = "/tmp";
  m.type = "tmpfs";
  m.source = "tmpfs";
  m.uid_mappings = {map(0, 100000, 10)};
  m.gid_mappings = {map(0, 100000, 10)};
  EXPECT_EQ(check_error(m),
            "mounts[3]: uidMappings and gidMappings are supported on bind mounts only");
}

TEST(MountChecks, MappingsTheKernelWouldRefuse) {
  Mount m = bind_mount();
  m.gid_mappings = {map(0, 100000, 10)};
  m.uid_mappings = {map(0, 100000, 0)};
  EXPECT_EQ(check_error(m), "mounts[3].uidMappings[0]: size must not be 0");
  m.uid_mappings = {map(0, 100000, 10), map(5, 200000, 10)};
  EXPECT_EQ(check_error(m),
            "mounts[3].uidMappings: ranges [0,10) and [5,15) overlap in the container");
  m.uid_mappings = {map(0, 100000, 10), map(10, 100005, 10)};
  EXPECT_EQ(
      check_error(m),
      "mounts[3].uidMappings: ranges [100000,100010) and [100005,100015) overlap on the host");
  m.uid_mappings = {map(0, 100000, 10)};
  m.gid_mappings = {map(4294967295u, 1, 2)};
  EXPECT_EQ(check_error(m), "mounts[3].gidMappings[0]: range past 4294967295");
}

TEST(MountChecks, CopySymlinkExcludesNofollow) {
  EXPECT_EQ(check_error(bind_mount({"bind", "src-nofollow", "dest-nofollow"})), "<valid>");
  EXPECT_EQ(check_error(bind_mount({"bind", "copy-symlink", "src-nofollow"})),
            "mounts[3].options: copy-symlink is mutually exclusive with src-nofollow and "
            "dest-nofollow");
  EXPECT_EQ(check_error(bind_mount({"bind", "dest-nofollow", "copy-symlink"})),
            "mounts[3].options: copy-symlink is mutually exclusive with src-nofollow and "
            "dest-nofollow");
}

TEST(MountChecks, EmptyDestination) {
  Mount m = bind_mount();
  m.destination = "";
  EXPECT_EQ(check_error(m), "mounts[3].destination: must not be empty");
}

TEST(MountOptionsNofollow, Parsed) {
  auto o = urun::linux::parse_mount_options({"bind", "src-nofollow"});
  EXPECT_TRUE(o.src_nofollow);
  EXPECT_FALSE(o.dest_nofollow);
  EXPECT_EQ(o.data, "");  // never handed to the filesystem
  o = urun::linux::parse_mount_options({"rbind", "dest-nofollow", "ro"});
  EXPECT_FALSE(o.src_nofollow);
  EXPECT_TRUE(o.dest_nofollow);
  EXPECT_EQ(o.data, "");
}

TEST(MountOptionsIdmapped, OptionOrMappings) {
  Mount m = bind_mount();
  EXPECT_FALSE(urun::linux::is_idmapped(m, urun::linux::parse_mount_options(m.options)));
  m.options = {"bind", "idmap"};
  EXPECT_TRUE(urun::linux::is_idmapped(m, urun::linux::parse_mount_options(m.options)));
  m.options = {"bind"};
  m.uid_mappings = {map(0, 1, 1)};
  EXPECT_TRUE(urun::linux::is_idmapped(m, urun::linux::parse_mount_options(m.options)));
  m.uid_mappings.clear();
  m.gid_mappings = {map(0, 1, 1)};
  EXPECT_TRUE(urun::linux::is_idmapped(m, urun::linux::parse_mount_options(m.options)));
}

std::string list_error(const json& j) {
  try {
    urun::spec::mounts_from_json(j);
  } catch (const urun::Error& e) {
    return e.what();
  }
  return "<valid>";
}

TEST(MountList, ParsesTheConfigFormat) {
  auto mounts = urun::spec::mounts_from_json(json::parse(R"([
    {"destination": "/a", "type": "bind", "source": "/srv/a", "options": ["rbind", "ro"]},
    {"destination": "/b", "source": "/srv/b", "options": ["bind"],
     "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
     "gidMappings": [{"containerID": 0, "hostID": 1001, "size": 2}]},
    {"destination": "/t", "type": "tmpfs"}
  ])"));
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].destination, "/a");
  EXPECT_EQ(mounts[0].options, (std::vector<std::string>{"rbind", "ro"}));
  EXPECT_EQ(mounts[1].gid_mappings, (std::vector<urun::spec::IdMapping>{map(0, 1001, 2)}));
  EXPECT_EQ(mounts[2].type, "tmpfs");
  EXPECT_EQ(mounts[2].source, "");
}

TEST(MountList, BadInputNamesTheElement) {
  EXPECT_EQ(list_error(json::object()),
            "must be an array of mounts (the config's `mounts` format)");
  EXPECT_EQ(list_error(json::parse(R"([{"type": "tmpfs"}])")),
            "mounts[0].destination: is required");
  EXPECT_EQ(list_error(json::parse(R"([{"destination": "/a"}, {"destination": 3}])")),
            "mounts[1].destination: must be a string");
  EXPECT_EQ(list_error(json::parse(R"([{"destination": "/a", "options": "ro"}])")),
            "mounts[0].options: must be an array of strings");
  EXPECT_EQ(list_error(json::parse("[]")), "<valid>");
}

}  // namespace
