#include "linux/namespaces.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include "common/error.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace {

using urun::linux::plan_namespaces;
using urun::spec::Namespace;

TEST(NamespacePlan, NewNamespacesAreClonedExceptCgroupAndTime) {
  auto plan = plan_namespaces({{"pid", ""}, {"mount", ""}, {"cgroup", ""}, {"network", ""}}, false);
  EXPECT_EQ(plan.clone_flags, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET);
  EXPECT_EQ(plan.unshare_flags, CLONE_NEWCGROUP);
  EXPECT_FALSE(plan.needs_fork);
  EXPECT_FALSE(plan.new_user);
}

TEST(NamespacePlan, RootlessAddsAUserNamespace) {
  auto plan = plan_namespaces({{"mount", ""}}, true);
  EXPECT_TRUE(plan.new_user);
  EXPECT_EQ(plan.clone_flags, CLONE_NEWNS | CLONE_NEWUSER);
}

// A time namespace applies to children only, so the init forks once more; the
// forking process must not be pid 1 of the new pid namespace.
TEST(NamespacePlan, TimeNamespaceMovesThePidNamespaceToUnshare) {
  auto plan = plan_namespaces({{"pid", ""}, {"mount", ""}, {"time", ""}}, false);
  EXPECT_TRUE(plan.needs_fork);
  EXPECT_EQ(plan.clone_flags, CLONE_NEWNS);
  EXPECT_EQ(plan.unshare_flags, CLONE_NEWPID | CLONE_NEWTIME);
}

TEST(NamespacePlan, JoiningAUserNamespaceUnsharesTheRestAfterIt) {
  auto plan = plan_namespaces({{"user", "/proc/self/ns/user"}, {"pid", ""}, {"mount", ""}}, true);
  ASSERT_EQ(plan.join.size(), 1u);
  EXPECT_EQ(plan.join[0].first, CLONE_NEWUSER);
  EXPECT_FALSE(plan.new_user);
  EXPECT_EQ(plan.clone_flags, 0);
  EXPECT_EQ(plan.unshare_flags, CLONE_NEWPID | CLONE_NEWNS);
  EXPECT_TRUE(plan.needs_fork);
}

TEST(NamespacePlan, PathOfTheWrongTypeIsRefused) {
  try {
    plan_namespaces({{"uts", "/proc/self/ns/net"}}, false);
    FAIL() << "a net namespace was accepted as uts";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a uts namespace"), std::string::npos) << e.what();
  }
}

TEST(NamespacePlan, UnknownTypeIsRefused) {
  EXPECT_THROW(plan_namespaces({{"bogus", ""}}, false), urun::Error);
}

// runtime-spec: an absent type is the runtime's. The container has a mount namespace of its own
// only when it creates one or joins another by path.
TEST(NamespacePlan, MountNamespaceOfItsOwnOrNot) {
  EXPECT_TRUE(plan_namespaces({{"mount", ""}}, false).own_mount);
  EXPECT_TRUE(plan_namespaces({{"mount", ""}}, true).own_mount);
  auto none = plan_namespaces({{"pid", ""}, {"uts", ""}}, false);
  EXPECT_FALSE(none.own_mount);
  EXPECT_FALSE(none.joined_runtime_mount);
  EXPECT_EQ(none.clone_flags & CLONE_NEWNS, 0);
  EXPECT_EQ(none.unshare_flags & CLONE_NEWNS, 0);
}

// Joining our own mount namespace is no namespace of the container's: the join is dropped (and
// with it a pivot_root that would move every process of the namespace).
TEST(NamespacePlan, JoiningTheRuntimesOwnMountNamespaceIsNoneOfItsOwn) {
  auto plan = plan_namespaces({{"mount", "/proc/self/ns/mnt"}}, false);
  EXPECT_FALSE(plan.own_mount);
  EXPECT_TRUE(plan.joined_runtime_mount);
  EXPECT_TRUE(plan.join.empty());
  // With a new user namespace too: nothing is joined, so nothing is refused.
  plan = plan_namespaces({{"mount", "/proc/self/ns/mnt"}, {"user", ""}}, false);
  EXPECT_TRUE(plan.new_user);
  EXPECT_FALSE(plan.own_mount);
}

}  // namespace
