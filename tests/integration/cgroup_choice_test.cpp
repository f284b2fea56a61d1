// The cgroup manager choice: root gets a
// cgroup with its limits; an unprivileged user on a host without a delegated,
// writable cgroup runs without one and is warned once, unless the config named
// a cgroupsPath, which then fails cleanly.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace urun_it {
namespace {

class CgroupChoice : public IntegrationTest {};
class CgroupChoiceRoot : public IntegrationTest {};
class CgroupChoiceRootless : public IntegrationTest {};

constexpr const char* kWarning = "cgroups are not available";

void add_limits(Bundle& b) {
  b.config["linux"]["resources"]["pids"] = {{"limit", 123}};
  b.config["linux"]["resources"]["memory"] = {{"limit", 256 * 1024 * 1024}};
}

// The limit is visible from inside: /proc/self/cgroup names the container's
// cgroup (no cgroup namespace in this config) and /sys/fs/cgroup/pids is that
// cgroup itself.
TEST_P(CgroupChoiceRoot, LimitsApplyAndTheCgroupIsRemoved) {
  if (is_runc()) GTEST_SKIP() << "checks urun's cgroup naming";
  Bundle b = make_bundle();
  add_limits(b);
  b.sh(
      "p=$(grep ':pids:' /proc/self/cgroup | cut -d: -f3); echo $p; "
      "cat /sys/fs/cgroup/pids/pids.max");
  b.save();
  Result r = run_container(b, "lim");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.describe();
  EXPECT_NE(lines[0].find("/urun/lim"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "123");
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/pids" + lines[0])) << "cgroup left behind";
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/memory" + lines[0])) << "cgroup left behind";
}

TEST_P(CgroupChoiceRootless, LimitsWithoutCgroupsWarnOnceAndRun) {
  if (is_runc()) GTEST_SKIP() << "runc's rootless warning differs";
  Bundle b = make_bundle();
  add_limits(b);
  b.sh("echo ran");
  b.save();
  Result r = run_container(b, "warned");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "ran\n");
  auto err = r.err_lines();
  ASSERT_EQ(err.size(), 1u) << r.describe();
  EXPECT_NE(err[0].find(kWarning), std::string::npos) << err[0];
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
}

TEST_P(CgroupChoiceRootless, NoLimitsNoWarning) {
  Bundle b = make_bundle();
  b.sh("echo ran");
  b.save();
  Result r = run_container(b, "quiet");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
}

TEST_P(CgroupChoiceRootless, ExplicitCgroupsPathWithoutCgroupsFails) {
  if (is_runc()) GTEST_SKIP() << "runc ignores an unusable cgroupsPath when rootless";
  Bundle b = make_bundle();
  b.config["linux"]["cgroupsPath"] = "/mine";
  b.sh("echo ran");
  b.save();
  Result r = create(b, "explicit");
  expect_clean_failure(r, "cgroupsPath");
}

// --debug says which manager was chosen and why the better ones were not.
TEST_P(CgroupChoice, DebugExplainsTheChoice) {
  if (is_runc()) GTEST_SKIP() << "urun's --debug wording";
  Bundle b = make_bundle();
  b.sh("true");
  b.save();
  Result r = rt().run({"--debug", "run", "--bundle", b.dir, "dbg"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("cgroup manager: systemd: "), std::string::npos) << r.describe();
  if (rootless()) {
    EXPECT_NE(r.err.find("cgroupfs: "), std::string::npos) << r.describe();
  } else {
    EXPECT_NE(r.err.find("cgroup manager: cgroupfs at "), std::string::npos) << r.describe();
  }
}

// --cgroup-manager disabled is remembered: a later kill --all and delete of
// the container do not look for a cgroup.
TEST_P(CgroupChoice, DisabledManagerIsHonouredByLaterCommands) {
  if (is_runc()) GTEST_SKIP() << "runc has no --cgroup-manager";
  Bundle b = make_bundle();
  b.sh("sleep 1000 & sleep 1000");
  b.save();
  ASSERT_RUN_OK(rt().run({"--cgroup-manager", "disabled", "create", "--bundle", b.dir, "dis"}));
  ASSERT_RUN_OK(rt().run({"start", "dis"}));
  EXPECT_EQ(rt().status("dis"), "running");
  ASSERT_RUN_OK(rt().run({"kill", "--all", "dis", "KILL"}));
  EXPECT_EQ(rt().wait_status("dis", "stopped"), "stopped");
  ASSERT_RUN_OK(rt().run({"delete", "dis"}));
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// Asked for by name, systemd must be reachable: there is none on these hosts, so
// create fails with one line and leaves nothing behind (the automatic choice falls
// back instead, see DebugExplainsTheChoice).
TEST_P(CgroupChoice, ExplicitSystemdWithoutSystemdFailsCleanly) {
  Bundle b = make_bundle();
  b.sh("echo ran");
  b.save();
  for (std::string flag : {"--systemd-cgroup", "--cgroup-manager=systemd"}) {
    SCOPED_TRACE(flag);
    if (is_runc() && flag != "--systemd-cgroup") continue;  // runc has no --cgroup-manager
    Result r = rt().run({flag, "run", "--bundle", b.dir, "sd"});
    expect_clean_failure(r, "cgroup manager `systemd`: not available");
    EXPECT_EQ(r.out.find("ran"), std::string::npos) << r.describe();
  }
}

URUN_IT_INSTANTIATE(CgroupChoice);
URUN_IT_INSTANTIATE_ONLY(CgroupChoiceRoot, root);
URUN_IT_INSTANTIATE_ONLY(CgroupChoiceRootless, rootless);

}  // namespace
}  // namespace urun_it
