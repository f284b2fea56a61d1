// The cgroup v2 manager end to end on this hybrid host, as root: urun runs in a mount
// namespace where the host's cgroup2 tree (/sys/fs/cgroup/unified, no controllers) is bound
// over /sys/fs/cgroup, so it sees a unified host. The init is cloned straight into its cgroup
// (CLONE_INTO_CGROUP) and linux.resources.devices becomes a BPF device program that decides
// what the container may open. Device programs and cgroup.procs work without controllers,
// limits do not: the configs here carry device rules only.
#include <gtest/gtest.h>
#include <unistd.h>

#include "harness.hpp"

namespace urun_it {
namespace {

class CgroupV2Root : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (!path_exists("/sys/fs/cgroup/unified/cgroup.procs"))
      GTEST_SKIP() << "no cgroup2 tree at /sys/fs/cgroup/unified";
    cgroup_ = "/urun-it-v2-" + std::to_string(::getpid());
  }
  void TearDown() override {
    // A failed run may leave the cgroup: `delete` in TearDown would look for it under the
    // host's /sys/fs/cgroup, not in the unified tree.
    if (!cgroup_.empty())
      host_sh("d=/sys/fs/cgroup/unified" + cgroup_ +
              "; [ ! -d $d ] || { echo 1 > $d/cgroup.kill; sleep 0.2; rmdir $d; }");
    IntegrationTest::TearDown();
  }

  // `run` of the bundle with the unified tree bound over /sys/fs/cgroup.
  Result run_on_unified(Bundle& b, const std::string& id) {
    b.config["linux"]["cgroupsPath"] = cgroup_;
    b.save();
    const std::string script =
        "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && "
        "exec \"$0\" --debug --root \"$1\" run --bundle \"$2\" \"$3\"";
    return run_as(identity(),
                  {"unshare", "-m", "--propagation", "private", "sh", "-c", script,
                   world().runtime(), rt().state_root(), b.dir, id},
                  dir() + "/io", RunOptions{.cwd = dir()});
  }

  std::string cgroup_;
};

// /dev/kmsg (c 1:11) is bound into the container, outside the devices every container gets.
void add_kmsg(Bundle& b) {
  b.add_mount({{"destination", "/dev/kmsg"},
               {"type", "bind"},
               {"source", "/dev/kmsg"},
               {"options", Json::array({"bind"})}});
  b.sh(
      "if true 2>/dev/null >/dev/kmsg; then echo kmsg=open; else echo kmsg=denied; fi; "
      "if true 2>/dev/null >/dev/null; then echo null=open; else echo null=denied; fi; "
      "grep '^0::' /proc/self/cgroup");
}

TEST_P(CgroupV2Root, DeviceRulesAreABpfProgramAndTheInitIsClonedIntoItsCgroup) {
  if (is_runc()) GTEST_SKIP() << "checks urun's debug log";
  Bundle b = make_bundle();
  add_kmsg(b);
  b.config["linux"]["resources"] = {
      {"devices", Json::array({{{"allow", false}, {"access", "rwm"}}})}};
  Result r = run_on_unified(b, "v2deny");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_EQ(lines[0], "kmsg=denied");
  EXPECT_EQ(lines[1], "null=open");
  EXPECT_EQ(lines[2], "0::" + cgroup_);
  EXPECT_NE(r.err.find("cloned into its cgroup"), std::string::npos) << r.describe();
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/unified" + cgroup_)) << "cgroup left behind";

  // An allow rule for the device, write only (opening /dev/kmsg to read also needs
  // CAP_SYSLOG), after the deny-all.
  b.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 11}, {"access", "w"}});
  r = run_on_unified(b, "v2allow");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  lines = split_lines(r.out);
  ASSERT_FALSE(lines.empty()) << r.describe();
  EXPECT_EQ(lines[0], "kmsg=open");
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/unified" + cgroup_)) << "cgroup left behind";
}

URUN_IT_INSTANTIATE_ONLY(CgroupV2Root, root);

}  // namespace
}  // namespace urun_it
