// spec/host_isolation: hostname, domainname, sysctls, time offsets and a read-only root against
// the namespaces the container owns, and the reading of sysctl keys. Pure: nothing here touches
// the system.
#include "spec/host_isolation.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"
#include "spec/valid_config.hpp"

namespace {

using nlohmann::json;
using urun::spec::sysctl_namespace;
using urun::spec::sysctl_path;

// A valid config owning the namespaces in `types` (each {"type": t}, or with a path when
// written "t=/path"), with `patch` merged in.
json config(std::initializer_list<const char*> types, const json& patch = json::object()) {
  json namespaces = json::array({{{"type", "mount"}}});
  for (std::string t : types) {
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      namespaces.push_back({{"type", t}});
    } else {
      namespaces.push_back({{"type", t.substr(0, eq)}, {"path", t.substr(eq + 1)}});
    }
  }
  return urun_test::valid_config(std::move(namespaces), patch);
}

// validate()'s message for the config, "<valid>" when it passes.
std::string error_of(const json& j) {
  int code = EINVAL;
  std::string message = urun_test::validate_error(j, &code);
  EXPECT_EQ(code, EINVAL) << message;
  return message;
}

json sysctls(std::initializer_list<std::pair<const char*, const char*>> kv) {
  json out = json::object();
  for (const auto& [k, v] : kv) out[k] = v;
  return {{"linux", {{"sysctl", out}}}};
}

TEST(OwnNamespace, NewOrJoinedByPathCountsAbsentDoesNot) {
  auto spec = urun::spec::from_json(config({"uts", "ipc=/proc/1/ns/ipc"}));
  EXPECT_TRUE(urun::spec::has_own_namespace(spec, "uts"));
  EXPECT_TRUE(urun::spec::has_own_namespace(spec, "ipc"));
  EXPECT_FALSE(urun::spec::has_own_namespace(spec, "network"));
  urun::spec::Spec no_linux = spec;
  no_linux.linux.reset();
  EXPECT_FALSE(urun::spec::has_own_namespace(no_linux, "mount"));
}

TEST(SysctlPath, DottedAndSlashFormsAsSysctl8ReadsThem) {
  EXPECT_EQ(sysctl_path("net.ipv4.ip_forward"), "net/ipv4/ip_forward");
  EXPECT_EQ(sysctl_path("net/ipv4/ip_forward"), "net/ipv4/ip_forward");
  EXPECT_EQ(sysctl_path("kernel.shm_rmid_forced"), "kernel/shm_rmid_forced");
  // A '/' in a dotted key is a '.' of a name (a VLAN interface "eth0.1"), and the other way
  // round in a key written as a path.
  EXPECT_EQ(sysctl_path("net.ipv4.conf.eth0/1.forwarding"), "net/ipv4/conf/eth0.1/forwarding");
  EXPECT_EQ(sysctl_path("net/ipv4/conf/eth0.1/forwarding"), "net/ipv4/conf/eth0.1/forwarding");
  EXPECT_EQ(sysctl_path("vm"), "vm");
}

TEST(SysctlPath, MalformedKeysAndKeysLeavingProcSysAreRefused) {
  for (const char* key :
       {"", ".", "..", "net..ipv4", "net.ipv4.", ".net", "/etc/passwd", "net//ipv4",
        "../../etc/shadow", "net/../../etc", "net/./ipv4", "net.//.x", "net./.ipv4", "net/"}) {
    EXPECT_THROW(sysctl_path(key), urun::Error) << key;
  }
  EXPECT_THROW(sysctl_path(std::string("net.ipv4\0.x", 11)), urun::Error);
}

TEST(SysctlNamespace, FollowsTheKernelsTables) {
  for (const char* key : {"kernel.hostname", "kernel.domainname"})
    EXPECT_EQ(sysctl_namespace(sysctl_path(key)), "uts") << key;
  for (const char* key : {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.msg_next_id",
                          "kernel.sem", "kernel.sem_next_id", "kernel.shmall", "kernel.shmmax",
                          "kernel.shmmni", "kernel.shm_rmid_forced", "kernel.shm_next_id",
                          "fs.mqueue.queues_max", "fs/mqueue/msg_max", "fs.mqueue.msgsize_default"})
    EXPECT_EQ(sysctl_namespace(sysctl_path(key)), "ipc") << key;
  for (const char* key : {"net.ipv4.ip_forward", "net.core.somaxconn", "net/ipv6/conf/all/mtu"})
    EXPECT_EQ(sysctl_namespace(sysctl_path(key)), "network") << key;
  EXPECT_EQ(sysctl_namespace(sysctl_path("user.max_user_namespaces")), "user");
  for (const char* key :
       {"kernel.core_pattern", "kernel.ns_last_pid", "kernel.pid_max", "kernel.osrelease",
        "vm.overcommit_memory", "fs.file-max", "fs.mqueue", "kernel", "net", "kernel/msg/x",
        "kernel.random.boot_id", "debug.exception-trace", "kernel.sched_child_runs_first"})
    EXPECT_EQ(sysctl_namespace(sysctl_path(key)), "") << key;
}

TEST(HostIsolation, HostnameAndDomainnameNeedAUtsNamespace) {
  EXPECT_EQ(error_of(config({}, {{"hostname", "box"}})),
            "hostname: requires the container's own UTS namespace (a \"uts\" entry in "
            "linux.namespaces, new or joined by path); without one it would set the host's "
            "hostname");
  EXPECT_EQ(error_of(config({}, {{"domainname", "example.org"}})),
            "domainname: requires the container's own UTS namespace (a \"uts\" entry in "
            "linux.namespaces, new or joined by path); without one it would set the host's "
            "domainname");
  EXPECT_EQ(error_of(config({"uts"}, {{"hostname", "box"}, {"domainname", "example.org"}})),
            "<valid>");
  EXPECT_EQ(error_of(config({"uts=/proc/1/ns/uts"}, {{"hostname", "box"}})), "<valid>");
  // Without a linux section at all.
  json bare = config({}, {{"hostname", "box"}});
  bare.erase("linux");
  EXPECT_NE(error_of(bare).find("hostname: requires the container's own UTS namespace"),
            std::string::npos);
  EXPECT_EQ(error_of(config({"uts"}, {{"hostname", std::string(65, 'h')}})),
            "hostname: longer than 64 bytes");
  EXPECT_EQ(error_of(config({"uts"}, {{"hostname", std::string(64, 'h')}})), "<valid>");
}

TEST(HostIsolation, EachSysctlNeedsTheNamespaceThatIsolatesIt) {
  const struct {
    const char* key;
    const char* ns;
    const char* name;
  } cases[] = {
      {"kernel.hostname", "uts", "UTS"},
      {"kernel.domainname", "uts", "UTS"},
      {"kernel.msgmax", "ipc", "IPC"},
      {"kernel.sem", "ipc", "IPC"},
      {"kernel.shmmax", "ipc", "IPC"},
      {"kernel/shm_rmid_forced", "ipc", "IPC"},
      {"fs.mqueue.queues_max", "ipc", "IPC"},
      {"net.ipv4.ping_group_range", "network", "network"},
      {"net/ipv4/ip_forward", "network", "network"},
      {"user.max_user_namespaces", "user", "user"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(error_of(config({}, sysctls({{c.key, "1"}}))),
              std::string("linux.sysctl[\"") + c.key + "\"]: requires the container's own " +
                  c.name + " namespace (a \"" + c.ns +
                  "\" entry in linux.namespaces, new or joined by path); without one it would "
                  "change the host's value");
    EXPECT_EQ(error_of(config({c.ns}, sysctls({{c.key, "1"}}))), "<valid>");
    EXPECT_EQ(
        error_of(config({(std::string(c.ns) + "=/run/netns/x").c_str()}, sysctls({{c.key, "1"}}))),
        "<valid>");
  }
}

TEST(HostIsolation, SysctlsNoNamespaceIsolatesAreRefused) {
  for (const char* key : {"kernel.core_pattern", "kernel.ns_last_pid", "vm.overcommit_memory",
                          "fs.file-max", "kernel/pid_max"}) {
    EXPECT_EQ(error_of(config({"uts", "ipc", "network", "user", "pid"}, sysctls({{key, "1"}}))),
              std::string("linux.sysctl[\"") + key +
                  "\"]: not isolated by any namespace: it would change the host's value");
  }
}

TEST(HostIsolation, OddKeysAreRefusedNamingTheKey) {
  EXPECT_EQ(error_of(config({"network"}, sysctls({{"net/../../etc", "1"}}))),
            "linux.sysctl[\"net/../../etc\"]: the key has an empty, `.` or `..` component");
  EXPECT_EQ(error_of(config({"ipc"}, sysctls({{"kernel..shmmax", "1"}}))),
            "linux.sysctl[\"kernel..shmmax\"]: the key has an empty, `.` or `..` component");
  EXPECT_EQ(error_of(config({"network"}, sysctls({{"", "1"}}))),
            "linux.sysctl[\"\"]: empty sysctl key");
  EXPECT_EQ(error_of(config({"network"},
                            sysctls({{"net.ipv4.ip_forward", "1"}, {"net/ipv4/ip_forward", "0"}}))),
            "linux.sysctl[\"net/ipv4/ip_forward\"]: names the same sysctl as "
            "`net.ipv4.ip_forward`");
}

TEST(HostIsolation, UtsSysctlMustAgreeWithTheField) {
  EXPECT_EQ(error_of(config({"uts"}, {{"hostname", "one"},
                                      {"linux", {{"sysctl", {{"kernel.hostname", "two"}}}}}})),
            "linux.sysctl[\"kernel.hostname\"]: `two` contradicts hostname `one`");
  EXPECT_EQ(error_of(config({"uts"}, {{"domainname", "a.example"},
                                      {"linux", {{"sysctl", {{"kernel/domainname", "b"}}}}}})),
            "linux.sysctl[\"kernel/domainname\"]: `b` contradicts domainname `a.example`");
  EXPECT_EQ(error_of(config({"uts"}, {{"hostname", "one"},
                                      {"linux", {{"sysctl", {{"kernel.hostname", "one"}}}}}})),
            "<valid>");
  EXPECT_EQ(error_of(config({"uts"}, sysctls({{"kernel.domainname", "b"}}))), "<valid>");
}

TEST(HostIsolation, TimeOffsetsNeedATimeNamespaceTheContainerCreates) {
  const json offsets = {{"linux", {{"timeOffsets", {{"boottime", {{"secs", 5}}}}}}}};
  EXPECT_EQ(error_of(config({}, offsets)),
            "linux.timeOffsets: requires a time namespace (a \"time\" entry in "
            "linux.namespaces); without one the offsets would be ignored");
  EXPECT_EQ(error_of(config({"time=/proc/1/ns/time"}, offsets)),
            "linux.timeOffsets: cannot be set on a time namespace joined by path "
            "`/proc/1/ns/time`; only on one the container creates");
  EXPECT_EQ(error_of(config({"time"}, offsets)), "<valid>");
}

// Without a mount namespace of its own the container shares the host's mount table: a
// read-only root would remount the host's mount of the rootfs.
TEST(HostIsolation, ReadonlyRootNeedsAMountNamespace) {
  json no_mount = config({"uts"}, {{"root", {{"readonly", true}}}});
  no_mount["linux"]["namespaces"] = json::array({{{"type", "uts"}}});
  EXPECT_EQ(error_of(no_mount),
            "root.readonly: requires the container's own mount namespace (a \"mount\" entry in "
            "linux.namespaces, new or joined by path, other than the runtime's); without one it "
            "would make the host's mount of the rootfs read-only");
  no_mount["root"]["readonly"] = false;
  EXPECT_EQ(error_of(no_mount), "<valid>");
  EXPECT_EQ(error_of(config({}, {{"root", {{"readonly", true}}}})), "<valid>");
  json joined = config({}, {{"root", {{"readonly", true}}}});
  joined["linux"]["namespaces"] = json::array({{{"type", "mount"}, {"path", "/proc/1/ns/mnt"}}});
  EXPECT_EQ(error_of(joined), "<valid>");
}

}  // namespace
