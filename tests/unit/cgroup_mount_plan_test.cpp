// What the container's /sys/fs/cgroup shows when it has no cgroup of its own:
// the runtime's cgroups, read from /proc/self/cgroup and keyed by the
// hierarchy's directory under /sys/fs/cgroup.
#include <gtest/gtest.h>

#include "linux/cgroup_mount.hpp"

namespace {

using urun::linux::cgroup_hierarchy_dir;
using urun::linux::cgroup_plan_from_proc;

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

}  // namespace
