// What the container's /sys/fs/cgroup shows when it has no cgroup of its own:
// the runtime's cgroups, read from /proc/self/cgroup and keyed by the
// hierarchy's directory under /sys/fs/cgroup.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "common/error.hpp"
#include "linux/mounts/cgroup_mount.hpp"

namespace {

using urun::linux::cgroup_hierarchy_dir;
using urun::linux::cgroup_plan_from_proc;
using urun::linux::decode_cgroup_plan;
using urun::linux::encode_cgroup_plan;

TEST(CgroupMountPlan, HierarchyDirectoryOfAProcKey) {
  EXPECT_EQ(cgroup_hierarchy_dir("memory", false), "memory");
  EXPECT_EQ(cgroup_hierarchy_dir("cpu,cpuacct", false), "cpu,cpuacct");
  EXPECT_EQ(cgroup_hierarchy_dir("cpuacct,cpu", false), "cpu,cpuacct");
  EXPECT_EQ(cgroup_hierarchy_dir("net_prio,net_cls", false), "net_cls,net_prio");
  EXPECT_EQ(cgroup_hierarchy_dir("name=systemd", false), "systemd");
  EXPECT_EQ(cgroup_hierarchy_dir("", false), "unified");  // hybrid: the cgroup2 tree
  EXPECT_EQ(cgroup_hierarchy_dir("", true), "");          // unified: the root itself
}

TEST(CgroupMountPlan, HybridHostFromProcSelfCgroup) {
  auto plan = cgroup_plan_from_proc(
      "9:name=systemd:/user.slice\n4:memory:/process_api/a:b\n1:cpu,cpuacct:/\n0::/x\n", false);
  EXPECT_FALSE(plan.own);
  ASSERT_EQ(plan.paths.size(), 4u);
  EXPECT_EQ(plan.paths["systemd"], "/user.slice");
  EXPECT_EQ(plan.paths["memory"], "/process_api/a:b");  // ':' in a path is kept
  EXPECT_EQ(plan.paths["cpu,cpuacct"], "/");
  EXPECT_EQ(plan.paths["unified"], "/x");
}

TEST(CgroupMountPlan, UnifiedHostKeepsOnlyTheCgroup2Line) {
  auto plan = cgroup_plan_from_proc("0::/user.slice/u.scope\n", true);
  ASSERT_EQ(plan.paths.size(), 1u);
  EXPECT_EQ(plan.paths[""], "/user.slice/u.scope");
  // Stray v1 lines (a v1 hierarchy mounted elsewhere) do not name a directory here.
  plan = cgroup_plan_from_proc("1:name=foo:/a\n0::/b\n", true);
  ASSERT_EQ(plan.paths.size(), 1u);
  EXPECT_EQ(plan.paths[""], "/b");
}

TEST(CgroupMountPlan, MalformedLinesAreSkipped) {
  auto plan = cgroup_plan_from_proc("garbage\n\n3:memory\n2:pids:/p", false);
  ASSERT_EQ(plan.paths.size(), 1u);
  EXPECT_EQ(plan.paths["pids"], "/p");
}

// The plan the launcher sends once a systemd scope exists survives the sync channel:
// the unified host's "" key, paths with ':' and newlines, and the own flag.
TEST(CgroupMountPlan, EncodedPlanDecodesToTheSame) {
  urun::linux::CgroupMountPlan plan;
  plan.own = true;
  plan.paths[""] = "/system.slice/urun-a.scope/container";
  plan.paths["cpu,cpuacct"] = "/odd:path\nwith newline";
  plan.paths["systemd"] = "/";
  auto back = decode_cgroup_plan(encode_cgroup_plan(plan));
  EXPECT_TRUE(back.own);
  EXPECT_EQ(back.paths, plan.paths);

  urun::linux::CgroupMountPlan none;
  back = decode_cgroup_plan(encode_cgroup_plan(none));
  EXPECT_FALSE(back.own);
  EXPECT_TRUE(back.paths.empty());
}

TEST(CgroupMountPlan, MalformedPayloadIsAProtocolError) {
  using namespace std::string_literals;
  for (const std::string& bad : {""s, "x"s, "1\0only-a-key"s, "1junk\0a\0b"s}) {
    try {
      decode_cgroup_plan(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const urun::Error& e) {
      EXPECT_EQ(e.code(), EPROTO) << e.what();
    }
  }
}

}  // namespace
