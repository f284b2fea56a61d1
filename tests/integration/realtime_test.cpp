// linux.resources.cpu.realtimeRuntime and realtimePeriod on this host's real cgroup v1 cpu
// hierarchy (CONFIG_RT_GROUP_SCHED), below a test-owned cgroup BASE (v1_base.hpp): the kernel
// takes a runtime only while every ancestor holds at least the share of its children, and new
// cgroups start with none, so urun raises the ancestors that lack the room (never the hierarchy's
// root). The values are read back inside the container and on the host.
//
// As root BASE starts with no realtime runtime, as urun's own /urun does on a host where it was
// made before this fix. Rootless, BASE is delegated to the user with a budget the test (the
// admin) gave it; what the user's containers need below it urun raises in the cgroups the user
// owns, and more than BASE has is a clean error (its knob files are root's).
#include <unistd.h>

#include "v1_base.hpp"

namespace urun_it {
namespace {

constexpr const char* kCgFunction =
    "cg() { p=$(grep -E \"^[0-9]+:([^:]*,)?$1(,[^:]*)?:\" /proc/self/cgroup | cut -d: -f3); "
    "f=/sys/fs/cgroup/$1$p/$2; [ -e \"$f\" ] || f=/sys/fs/cgroup/$1/$2; cat \"$f\"; }; ";

class RealtimeV1 : public V1Base {
 protected:
  void SetUp() override {
    V1Base::SetUp();
    if (IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(set_up_base("rt"));
    if (IsSkipped()) return;
    cpu_ = hierarchy_of("cpu");
    if (cpu_.empty()) GTEST_SKIP() << "no v1 cpu hierarchy";
    if (!path_exists(std::string(kCgroupRoot) + "/" + cpu_ + "/cpu.rt_runtime_us"))
      GTEST_SKIP() << "the kernel has no realtime group scheduling (CONFIG_RT_GROUP_SCHED)";
    if (rootless()) {
      // The admin's grant: BASE may hand out 100 ms of every second.
      write_file(rt_file(""), "100000");
      ASSERT_EQ(trim(read_file(rt_file(""))), "100000");
    }
  }

  // BASE + sub's cpu.rt_runtime_us in the cpu hierarchy.
  std::string rt_file(const std::string& sub, const char* file = "cpu.rt_runtime_us") const {
    return dir(cpu_, sub) + "/" + file;
  }
  long rt_runtime(const std::string& sub) const { return std::stol(read_file(rt_file(sub))); }

  // A container at BASE/a/<id> printing its own realtime values, then waiting.
  Bundle bundle(const std::string& id, long runtime, long period) {
    Bundle b = make_bundle({.name = id});
    b.config["linux"]["cgroupsPath"] = base_ + "/a/" + id;
    b.config["linux"]["resources"]["cpu"] = {{"realtimeRuntime", runtime},
                                             {"realtimePeriod", period}};
    b.sh(std::string(kCgFunction) +
         "echo runtime=$(cg cpu cpu.rt_runtime_us) period=$(cg cpu cpu.rt_period_us); "
         "exec sleep 1000");
    b.save();
    return b;
  }
  // Creates and starts the container; returns what it printed.
  std::string start(const Bundle& b, const std::string& id) {
    Result c = urun({"create", "--bundle", b.dir, id});
    EXPECT_EQ(c.exit_code, 0) << c.describe();
    if (c.exit_code != 0) return "";
    Result s = urun({"start", id});
    EXPECT_EQ(s.exit_code, 0) << s.describe();
    return trim(wait_file_contains(c.out_path, "period="));
  }

  std::string cpu_;
};

TEST_P(RealtimeV1, ValuesAreWrittenAndTheAncestorsMakeRoom) {
  const long base_before = rt_runtime("");
  Bundle one = bundle("one", 20000, 1000000);
  EXPECT_EQ(start(one, "one"), "runtime=20000 period=1000000");
  EXPECT_EQ(rt_runtime("/a/one"), 20000);
  EXPECT_EQ(trim(read_file(rt_file("/a/one", "cpu.rt_period_us"))), "1000000");
  EXPECT_GE(rt_runtime("/a"), 20000) << "BASE/a, made by urun, holds the container's share";
  EXPECT_GE(rt_runtime(""), 20000);

  // A second container beside the first: BASE/a grows to hold both.
  Bundle two = bundle("two", 30000, 1000000);
  EXPECT_EQ(start(two, "two"), "runtime=30000 period=1000000");
  EXPECT_EQ(rt_runtime("/a/two"), 30000);
  EXPECT_GE(rt_runtime("/a"), 50000);
  EXPECT_GE(rt_runtime(""), 50000);
  if (rootless()) {
    EXPECT_EQ(rt_runtime(""), base_before) << "the user cannot, and need not, raise BASE";
  }

  // update raises the room as create does.
  ASSERT_RUN_OK(urun({"update", "--cpu-rt-runtime", "40000", "one"}));
  EXPECT_EQ(rt_runtime("/a/one"), 40000);
  EXPECT_GE(rt_runtime("/a"), 70000);
  // A period shorter than the current runtime: the kernel takes the runtime first then (the
  // same share, 4%, so no ancestor changes).
  ASSERT_RUN_OK(urun({"update", "--cpu-rt-period", "20000", "--cpu-rt-runtime", "800", "one"}));
  EXPECT_EQ(rt_runtime("/a/one"), 800);
  EXPECT_EQ(trim(read_file(rt_file("/a/one", "cpu.rt_period_us"))), "20000");

  ASSERT_RUN_OK(urun({"delete", "--force", "one"}));
  ASSERT_RUN_OK(urun({"delete", "--force", "two"}));
  EXPECT_FALSE(path_exists(dir(cpu_, "/a/one")));
  EXPECT_FALSE(path_exists(dir(cpu_, "/a/two")));
}

// More than there is to give: one clear line, and nothing left behind.
TEST_P(RealtimeV1, MoreThanTheBudgetIsAnError) {
  // Rootless: more than BASE's 100000, which only root may raise. Root: more than the whole
  // hierarchy's budget (the system's, 950000 by default).
  const long too_much = rootless() ? 150000 : 990000;
  Bundle b = bundle("greedy", too_much, 1000000);
  Result r = urun({"run", "--bundle", b.dir, "greedy"});
  expect_clean_failure(r, "realtime");
  if (!is_runc()) {
    EXPECT_NE(r.err.find(rootless() ? "Permission denied" : "realtime runtime left"),
              std::string::npos)
        << r.describe();
  }
  EXPECT_FALSE(path_exists(dir(cpu_, "/a/greedy")));
}

// A create that fails after making room (here: its program does not exist) puts back the
// budget of the cgroups it found (root: BASE, raised from 0) and removes those it made.
TEST_P(RealtimeV1, AFailedCreatePutsTheBudgetBack) {
  const long base_before = rt_runtime("");
  Bundle b = bundle("missing", 20000, 1000000);
  b.set_args({"/no/such/program"});
  b.save();
  Result r = urun({"create", "--bundle", b.dir, "missing"});
  expect_clean_failure(r, "/no/such/program");
  EXPECT_EQ(rt_runtime(""), base_before);
  EXPECT_FALSE(path_exists(dir(cpu_, "/a"))) << "made by the failed create, and left";
}

URUN_IT_INSTANTIATE(RealtimeV1);

}  // namespace
}  // namespace urun_it
