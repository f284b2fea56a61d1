#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "spec/spec.hpp"

namespace {

using nlohmann::json;
using urun::spec::Spec;

bool host_is_cgroup2() {
  struct statfs st {};
  return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

const urun::spec::Mount* find_mount(const Spec& s, const std::string& destination) {
  for (const auto& m : s.mounts)
    if (m.destination == destination) return &m;
  return nullptr;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<std::string> namespace_types(const Spec& s) {
  std::vector<std::string> out;
  for (const auto& ns : s.linux->namespaces) out.push_back(ns.type);
  return out;
}

TEST(SpecDefault, RootParsesAndValidates) {
  json j = urun::spec::default_spec(false);
  Spec s = urun::spec::from_json(j);
  EXPECT_NO_THROW(urun::spec::validate(s));
  // The document survives a round trip through the model unchanged.
  EXPECT_EQ(urun::spec::to_json(s), j) << json::diff(j, urun::spec::to_json(s)).dump();
  // And its text form parses too (what `urun spec` writes to disk).
  EXPECT_NO_THROW(urun::spec::validate(urun::spec::parse(j.dump(2))));
}

TEST(SpecDefault, RootMatchesCrunSpec) {
  Spec s = urun::spec::from_json(urun::spec::default_spec(false));
  EXPECT_EQ(s.oci_version, "1.3.0");
  EXPECT_EQ(s.hostname, "urun");
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);

  ASSERT_TRUE(s.process.has_value());
  const auto& p = *s.process;
  EXPECT_TRUE(p.terminal);
  EXPECT_EQ(p.args, (std::vector<std::string>{"sh"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "TERM=xterm"}));
  EXPECT_EQ(p.cwd, "/");
  EXPECT_EQ(p.user.uid, 0u);
  EXPECT_EQ(p.user.gid, 0u);
  EXPECT_TRUE(p.no_new_privileges);
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].hard, 1024u);
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  ASSERT_TRUE(p.capabilities.has_value());
  const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  EXPECT_EQ(p.capabilities->bounding, caps);
  EXPECT_EQ(p.capabilities->effective, caps);
  EXPECT_EQ(p.capabilities->permitted, caps);
  EXPECT_EQ(p.capabilities->ambient, caps);
  EXPECT_TRUE(p.capabilities->inheritable.empty());

  std::vector<std::string> destinations;
  for (const auto& m : s.mounts) destinations.push_back(m.destination);
  EXPECT_EQ(destinations, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm",
                                                    "/dev/mqueue", "/sys", "/sys/fs/cgroup"}));
  EXPECT_EQ(find_mount(s, "/sys")->type, "sysfs");
  EXPECT_TRUE(has(find_mount(s, "/dev/pts")->options, "gid=5"));
  EXPECT_TRUE(has(find_mount(s, "/sys/fs/cgroup")->options, "ro"));

  ASSERT_TRUE(s.linux.has_value());
  std::vector<std::string> want_ns = {"pid", "network", "ipc", "uts"};
  if (host_is_cgroup2()) want_ns.push_back("cgroup");
  want_ns.push_back("mount");
  EXPECT_EQ(namespace_types(s), want_ns);
  EXPECT_TRUE(s.linux->uid_mappings.empty());
  EXPECT_TRUE(s.linux->gid_mappings.empty());
  EXPECT_EQ(s.linux->masked_paths.size(), 10u);
  EXPECT_TRUE(has(s.linux->masked_paths, "/proc/kcore"));
  EXPECT_TRUE(has(s.linux->masked_paths, "/sys/firmware"));
  EXPECT_EQ(s.linux->readonly_paths,
            (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"}));
  EXPECT_EQ(s.linux->resources["devices"][0]["allow"], false);
  EXPECT_EQ(s.linux->resources["devices"][0]["access"], "rwm");
}

TEST(SpecDefault, RootlessParsesAndValidates) {
  json j = urun::spec::default_spec(true);
  Spec s = urun::spec::from_json(j);
  EXPECT_NO_THROW(urun::spec::validate(s));
  EXPECT_EQ(urun::spec::to_json(s), j);
}

// As `crun spec --rootless`: a user namespace without mappings, which the runtime fills with
// the caller as 0 and its subordinate ids from 1.
TEST(SpecDefault, RootlessHasAUserNamespaceWithoutMappingsAndANetworkUrunConnects) {
  json j = urun::spec::default_spec(true);
  EXPECT_FALSE(j["linux"].contains("uidMappings")) << j["linux"].dump();
  EXPECT_FALSE(j["linux"].contains("gidMappings")) << j["linux"].dump();
  Spec s = urun::spec::from_json(j);
  ASSERT_TRUE(s.linux.has_value());
  EXPECT_TRUE(s.linux->uid_mappings.empty());
  EXPECT_TRUE(s.linux->gid_mappings.empty());
  EXPECT_NE(s.linux->find_namespace("user"), nullptr);
  // Unlike crun's: a network namespace of its own, connected by slirp4netns (run.urun.network).
  const auto* net = s.linux->find_namespace("network");
  ASSERT_NE(net, nullptr);
  EXPECT_TRUE(net->path.empty());
  ASSERT_NE(s.annotation("run.urun.network"), nullptr);
  EXPECT_EQ(*s.annotation("run.urun.network"), "slirp4netns");
  EXPECT_NE(s.linux->find_namespace("mount"), nullptr);
  EXPECT_NE(s.linux->find_namespace("pid"), nullptr);

  const auto* sys = find_mount(s, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->type, "none");
  EXPECT_EQ(sys->source, "/sys");
  EXPECT_EQ(sys->options, (std::vector<std::string>{"rbind", "nosuid", "noexec", "nodev", "ro"}));

  const auto* pts = find_mount(s, "/dev/pts");
  ASSERT_NE(pts, nullptr);
  for (const auto& o : pts->options) EXPECT_NE(o.rfind("gid=", 0), 0u) << o;
  EXPECT_TRUE(has(pts->options, "newinstance"));

  // cgroup2 may only be mounted from a cgroup namespace the user namespace owns.
  EXPECT_EQ(find_mount(s, "/sys/fs/cgroup") != nullptr, host_is_cgroup2());
  EXPECT_EQ(s.linux->find_namespace("cgroup") != nullptr, host_is_cgroup2());
}

TEST(SpecDefault, OnlyTheRootlessVariantHasAUserNamespace) {
  Spec root = urun::spec::from_json(urun::spec::default_spec(false));
  EXPECT_EQ(root.linux->find_namespace("user"), nullptr);
  Spec rootless = urun::spec::from_json(urun::spec::default_spec(true));
  EXPECT_NE(rootless.linux->find_namespace("user"), nullptr);
  // Root's containers are connected by whoever runs them.
  EXPECT_EQ(root.annotation("run.urun.network"), nullptr);
}

}  // namespace
