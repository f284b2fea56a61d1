#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "spec/spec.hpp"

namespace {

using nlohmann::json;

json valid_config() {
  return json::parse(R"({
    "ociVersion": "1.2.0",
    "process": {"args": ["sh"], "cwd": "/",
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
                            {"type": "RLIMIT_NPROC", "hard": 10, "soft": 5}]},
    "root": {"path": "rootfs"},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/data", "source": "/srv", "options": ["rbind"],
                "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}],
    "hooks": {"prestart": [{"path": "/bin/true", "timeout": 1}],
              "poststop": [{"path": "/bin/true"}]},
    "linux": {
      "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}, {"type": "ipc"},
                     {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}],
      "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
      "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
      "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 999999999}},
      "devices": [{"type": "c", "path": "/dev/null", "major": 1, "minor": 3},
                  {"type": "p", "path": "/dev/fifo"}],
      "rootfsPropagation": "rslave",
      "sysctl": {"net.ipv4.ip_forward": "1", "kernel/shmmax": "1"}
    }
  })");
}

// validate() on valid_config() with `patch` merged in (RFC 7386).
std::string validate_error(const json& patch) {
  json j = valid_config();
  j.merge_patch(patch);
  try {
    urun::spec::validate(urun::spec::from_json(j));
  } catch (const urun::Error& e) {
    return e.what();
  }
  return "<valid>";
}

TEST(SpecValidate, ValidConfigPasses) {
  EXPECT_NO_THROW(urun::spec::validate(urun::spec::from_json(valid_config())));
  EXPECT_EQ(validate_error(json::object()), "<valid>");
}

TEST(SpecValidate, OciVersionAcceptance) {
  // Every 1.x: 1.3 is what urun implements, newer minors are accepted as crun does.
  for (const char* v : {"1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.0.2-dev", "1.2.1", "1.0.0-rc5",
                        "1.2.0+dev.1", "1.1.0-rc.1+build", "1.3.0+dev", "1.4.0", "1.10.0"})
    EXPECT_EQ(validate_error({{"ociVersion", v}}), "<valid>") << v;
  for (const char* v : {"0.9.0", "2.0.0", "1.0", "1", "1.0.x", "1.0.0-", "1.0.0 ", "v1.0.0",
                        "1.0.01", "1.01.0", "1..0", "1.3.", "10.0.0", "1.3.0+", "garbage"})
    EXPECT_EQ(validate_error({{"ociVersion", v}}),
              std::string("ociVersion: unsupported version `") + v + "` (want 1.x.y)")
        << v;
  EXPECT_EQ(validate_error({{"ociVersion", ""}}), "ociVersion: is required");
  EXPECT_EQ(validate_error({{"ociVersion", nullptr}}), "ociVersion: is required");
}

TEST(SpecValidate, ProcessIsRequiredWithArgs) {
  EXPECT_EQ(validate_error({{"process", nullptr}}), "process: is required");
  EXPECT_EQ(validate_error({{"process", {{"args", json::array()}}}}),
            "process.args: must be a non-empty array");
  EXPECT_EQ(validate_error({{"process", {{"args", nullptr}}}}),
            "process.args: must be a non-empty array");
  EXPECT_EQ(validate_error({{"process", {{"args", {""}}}}}), "process.args[0]: must not be empty");
}

TEST(SpecValidate, CwdMustBeAbsolute) {
  EXPECT_EQ(validate_error({{"process", {{"cwd", "home"}}}}),
            "process.cwd: must be an absolute path, got `home`");
  EXPECT_EQ(validate_error({{"process", {{"cwd", ""}}}}),
            "process.cwd: must be an absolute path, got ``");
}

TEST(SpecValidate, Rlimits) {
  json dup = valid_config()["process"]["rlimits"];
  dup[1]["type"] = "RLIMIT_NOFILE";
  EXPECT_EQ(validate_error({{"process", {{"rlimits", dup}}}}),
            "process.rlimits[1].type: duplicate rlimit `RLIMIT_NOFILE`");
  json inverted = valid_config()["process"]["rlimits"];
  inverted[1]["soft"] = 11;
  EXPECT_EQ(validate_error({{"process", {{"rlimits", inverted}}}}),
            "process.rlimits[1]: soft limit 11 exceeds hard limit 10");
  // Names are checked by the rlimit module, not here.
  json unknown = valid_config()["process"]["rlimits"];
  unknown[1]["type"] = "RLIMIT_BOGUS";
  EXPECT_EQ(validate_error({{"process", {{"rlimits", unknown}}}}), "<valid>");
}

TEST(SpecValidate, CapabilityNamesAreNotCheckedHere) {
  EXPECT_EQ(validate_error({{"process", {{"capabilities", {{"bounding", {"CAP_BOGUS"}}}}}}}),
            "<valid>");
}

TEST(SpecValidate, RootPathMustNotBeEmpty) {
  EXPECT_EQ(validate_error({{"root", {{"path", ""}}}}), "root.path: must not be empty");
  EXPECT_EQ(validate_error({{"root", nullptr}}), "root.path: must not be empty");
}

TEST(SpecValidate, Namespaces) {
  json ns = valid_config()["linux"]["namespaces"];
  ns[2]["type"] = "net";
  EXPECT_EQ(validate_error({{"linux", {{"namespaces", ns}}}}),
            "linux.namespaces[2].type: unknown namespace type `net`");
  ns = valid_config()["linux"]["namespaces"];
  ns.push_back({{"type", "pid"}});
  EXPECT_EQ(validate_error({{"linux", {{"namespaces", ns}}}}),
            "linux.namespaces[8].type: duplicate namespace `pid`");
  ns = valid_config()["linux"]["namespaces"];
  ns[1]["path"] = "run/netns/x";
  EXPECT_EQ(validate_error({{"linux", {{"namespaces", ns}}}}),
            "linux.namespaces[1].path: must be an absolute path, got `run/netns/x`");
  ns[1]["path"] = "/run/netns/x";
  EXPECT_EQ(validate_error({{"linux", {{"namespaces", ns}}}}), "<valid>");
}

TEST(SpecValidate, MountDestinations) {
  json mounts = valid_config()["mounts"];
  mounts[1]["destination"] = "";
  EXPECT_EQ(validate_error({{"mounts", mounts}}), "mounts[1].destination: must not be empty");
  // runtime-spec 1.2: relative destinations are deprecated but mean relative to "/".
  mounts[1]["destination"] = "data";
  EXPECT_EQ(validate_error({{"mounts", mounts}}), "<valid>");
  mounts[1]["uidMappings"][0]["size"] = 0;
  EXPECT_EQ(validate_error({{"mounts", mounts}}), "mounts[1].uidMappings[0]: size must not be 0");
}

TEST(SpecValidate, Hooks) {
  EXPECT_EQ(validate_error({{"hooks", {{"poststop", {{{"path", "true"}}}}}}}),
            "hooks.poststop[0].path: must be an absolute path, got `true`");
  EXPECT_EQ(validate_error({{"hooks", {{"createContainer", {{{"path", "/a"}}, {{"path", "b"}}}}}}}),
            "hooks.createContainer[1].path: must be an absolute path, got `b`");
  EXPECT_EQ(validate_error({{"hooks", {{"prestart", {{{"path", "/a"}, {"timeout", 0}}}}}}}),
            "hooks.prestart[0].timeout: must be greater than zero, got 0");
  EXPECT_EQ(validate_error({{"hooks", {{"startContainer", {{{"path", "/a"}, {"timeout", -3}}}}}}}),
            "hooks.startContainer[0].timeout: must be greater than zero, got -3");
}

TEST(SpecValidate, Devices) {
  json devices = valid_config()["linux"]["devices"];
  devices[1]["type"] = "x";
  EXPECT_EQ(validate_error({{"linux", {{"devices", devices}}}}),
            "linux.devices[1].type: must be one of c, b, u, p, got `x`");
  devices = valid_config()["linux"]["devices"];
  devices[0]["path"] = "dev/null";
  EXPECT_EQ(validate_error({{"linux", {{"devices", devices}}}}),
            "linux.devices[0].path: must be an absolute path, got `dev/null`");
  for (const char* t : {"b", "u"}) {
    devices = valid_config()["linux"]["devices"];
    devices[0]["type"] = t;
    EXPECT_EQ(validate_error({{"linux", {{"devices", devices}}}}), "<valid>") << t;
  }
}

TEST(SpecValidate, RootfsPropagation) {
  for (const char* p : {"", "private", "rprivate", "shared", "rshared", "slave", "rslave",
                        "unbindable", "runbindable"})
    EXPECT_EQ(validate_error({{"linux", {{"rootfsPropagation", p}}}}), "<valid>") << p;
  EXPECT_EQ(validate_error({{"linux", {{"rootfsPropagation", "Private"}}}}),
            "linux.rootfsPropagation: unknown propagation `Private`");
}

TEST(SpecValidate, IdMappingsWithZeroSize) {
  EXPECT_EQ(validate_error({{"linux",
                             {{"uidMappings",
                               {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}},
                                {{"containerID", 1}, {"hostID", 100000}, {"size", 0}}}}}}}),
            "linux.uidMappings[1].size: must not be zero");
  EXPECT_EQ(
      validate_error(
          {{"linux", {{"gidMappings", {{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}}}}}}),
      "linux.gidMappings[0].size: must not be zero");
}

TEST(SpecValidate, SysctlKeysMustNotClimb) {
  EXPECT_EQ(validate_error({{"linux", {{"sysctl", {{"net/../../etc", "1"}}}}}}),
            "linux.sysctl[\"net/../../etc\"]: the key has an empty, `.` or `..` component");
  EXPECT_EQ(validate_error({{"linux", {{"sysctl", {{"kernel..x", "1"}}}}}}),
            "linux.sysctl[\"kernel..x\"]: the key has an empty, `.` or `..` component");
}

TEST(SpecValidate, TimeOffsets) {
  EXPECT_EQ(validate_error({{"linux", {{"timeOffsets", {{"realtime", {{"secs", 1}}}}}}}}),
            "linux.timeOffsets: unknown clock `realtime` (want monotonic or boottime)");
  EXPECT_EQ(
      validate_error({{"linux", {{"timeOffsets", {{"boottime", {{"nanosecs", 1000000000}}}}}}}}),
      "linux.timeOffsets[\"boottime\"].nanosecs: must be below 1000000000");
}

}  // namespace

namespace {

// linux.mountLabel goes into `context="..."`: a label that would end or split it is refused.
TEST(SpecValidate, MountLabel) {
  EXPECT_EQ(validate_error({{"linux", {{"mountLabel", "system_u:object_r:container_file_t:s0"}}}}),
            "<valid>");
  EXPECT_NE(validate_error({{"linux", {{"mountLabel", "a\",size=1"}}}}).find("linux.mountLabel"),
            std::string::npos);
  EXPECT_NE(validate_error({{"linux", {{"mountLabel", "a\nb"}}}}).find("linux.mountLabel"),
            std::string::npos);
}

}  // namespace
