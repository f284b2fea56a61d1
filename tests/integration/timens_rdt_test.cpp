// The annotation run.oci.timens_offset (the container's clocks shifted, seen from inside, and
// the values refused), and linux.intelRdt / `update --l3-cache-schema --mem-bw-schema` where no
// resctrl file system is mounted (this machine's case: runtime-spec wants an error).
#include <sys/vfs.h>

#include "harness.hpp"

namespace urun_it {
namespace {

bool resctrl_mounted() {
  struct statfs sfs;
  return ::statfs("/sys/fs/resctrl", &sfs) == 0 && sfs.f_type == 0x7655821 &&
         read_file("/proc/self/mountinfo").find(" - resctrl ") != std::string::npos;
}

class TimensOffset : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (!path_exists("/proc/self/ns/time"))
      GTEST_SKIP() << "the kernel has no time namespaces (/proc/self/ns/time)";
    if (is_runc()) GTEST_SKIP() << "run.oci.timens_offset is crun's";
  }
  Bundle time_bundle(const std::string& offsets) {
    Bundle b = make_bundle();
    b.add_namespace("time");
    b.config["annotations"]["run.oci.timens_offset"] = offsets;
    return b;
  }
};

TEST_P(TimensOffset, ShiftsTheClocksSeenInside) {
  constexpr long kBoot = 86400L * 20, kMono = 86400L * 3;
  Bundle b = time_bundle("boottime " + std::to_string(kBoot) + " 0\nmonotonic " +
                         std::to_string(kMono) + " 500");
  b.sh("cut -d' ' -f1 /proc/uptime; cat /proc/self/timens_offsets");
  b.save();
  double host_before = std::stod(read_file("/proc/uptime"));
  Result r = run_container(b, "tn");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  double host_after = std::stod(read_file("/proc/uptime"));
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  double inside = std::stod(lines[0]);
  EXPECT_GE(inside, host_before + kBoot) << r.out;
  EXPECT_LE(inside, host_after + kBoot + 1) << r.out;
  // The kernel's own account of the namespace's offsets (clock ids 1 and 7).
  bool mono = false, boot = false;
  for (const auto& l : lines) {
    mono |= l.find("monotonic") == 0 && l.find(std::to_string(kMono)) != std::string::npos &&
            l.find(" 500") != std::string::npos;
    boot |= l.find("boottime") == 0 && l.find(std::to_string(kBoot)) != std::string::npos;
  }
  EXPECT_TRUE(mono) << r.out;
  EXPECT_TRUE(boot) << r.out;
}

TEST_P(TimensOffset, ExecSeesTheSameClocks) {
  constexpr long kBoot = 86400L * 30;
  Bundle b = time_bundle("7 " + std::to_string(kBoot) + " 0");
  b.sh("sleep 60");
  b.save();
  ASSERT_RUN_OK(rt().run({"run", "-d", "--bundle", b.dir, "tx"}));
  Result r = rt().run({"exec", "tx", "cut", "-d ", "-f1", "/proc/uptime"});
  rt().run({"delete", "--force", "tx"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_GE(std::stod(r.out), double(kBoot)) << r.out;
}

TEST_P(TimensOffset, BadValuesAreRefused) {
  struct Case {
    std::string value, names;
  };
  for (const Case& c :
       {Case{"realtime 5 0", "unknown clock `realtime`"}, Case{"boottime 5", "want `ID SEC NSEC`"},
        Case{"boottime 5 1000000000", "nanoseconds must be below"},
        Case{"boottime five 0", "seconds `five`"}}) {
    Bundle b = time_bundle(c.value);
    b.sh("echo container-ran");
    b.save();
    Result r = run_container(b, "tb");
    expect_clean_failure(r, c.names);
    EXPECT_NE(r.err.find("run.oci.timens_offset"), std::string::npos) << r.describe();
    EXPECT_EQ(r.out.find("container-ran"), std::string::npos);
    host_sh("rm -rf '" + b.dir + "'");
  }
}

TEST_P(TimensOffset, NeedsATimeNamespace) {
  Bundle b = make_bundle();
  b.config["annotations"]["run.oci.timens_offset"] = "boottime 5 0";
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "tn");
  expect_clean_failure(r, "requires a time namespace");
}

// The kernel refuses an offset that would put a clock below zero: a clean failure naming it.
TEST_P(TimensOffset, AClockTheKernelRefusesFailsCleanly) {
  Bundle b = time_bundle("boottime -1000000000000 0");
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "tk");
  expect_clean_failure(r, "set the time offsets");
  EXPECT_NE(r.err.find("Numerical result out of range"), std::string::npos) << r.describe();
}

class IntelRdt : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (resctrl_mounted())
      GTEST_SKIP() << "resctrl is mounted here: these tests check the error where it is not";
  }
};

TEST_P(IntelRdt, CreateFailsWhereResctrlIsNotMounted) {
  for (const Json& rdt : {Json{{"closID", "gold"}, {"l3CacheSchema", "L3:0=f"}},
                          Json{{"enableMonitoring", true}}, Json::object()}) {
    Bundle b = make_bundle();
    b.config["linux"]["intelRdt"] = rdt;
    b.sh("echo container-ran");
    b.save();
    Result r = run_container(b, "rdt");
    expect_clean_failure(r, "resctrl file system is not mounted");
    EXPECT_EQ(r.out.find("container-ran"), std::string::npos);
    host_sh("rm -rf '" + b.dir + "'");
  }
}

TEST_P(IntelRdt, InvalidFieldsAreRefusedFirst) {
  if (is_runc()) GTEST_SKIP() << "runc reports the missing resctrl first";
  struct Case {
    Json rdt;
    std::string names;
  };
  for (const Case& c : {Case{{{"closID", "../escape"}}, "linux.intelRdt.closID"},
                        Case{{{"memBwSchema", "L3:0=f"}}, "linux.intelRdt.memBwSchema"},
                        Case{{{"schemata", {"L3:0=f\nMB:0=1"}}}, "linux.intelRdt.schemata[0]"}}) {
    Bundle b = make_bundle();
    b.config["linux"]["intelRdt"] = c.rdt;
    b.save();
    Result r = run_container(b, "rdt");
    expect_clean_failure(r, c.names);
    host_sh("rm -rf '" + b.dir + "'");
  }
}

TEST_P(IntelRdt, UpdateSchemasFailWhereResctrlIsNotMounted) {
  Bundle b = make_bundle();
  b.sh("sleep 60");
  b.save();
  ASSERT_RUN_OK(rt().run({"run", "-d", "--bundle", b.dir, "ru"}));
  Result l3 = rt().run({"update", "--l3-cache-schema", "L3:0=f", "ru"});
  Result mb = rt().run({"update", "--mem-bw-schema", "MB:0=50", "ru"});
  Result bad = rt().run({"update", "--mem-bw-schema", "50", "ru"});
  const std::string status = rt().status("ru");
  rt().run({"delete", "--force", "ru"});
  for (const Result* r : {&l3, &mb}) {
    EXPECT_NE(r->exit_code, 0) << r->describe();
    ASSERT_EQ(r->err_lines().size(), 1u) << r->describe();
    if (!is_runc()) {
      EXPECT_NE(r->err.find("resctrl file system is not mounted"), std::string::npos)
          << r->describe();
    }
  }
  EXPECT_NE(bad.exit_code, 0) << bad.describe();
  if (!is_runc()) {
    EXPECT_NE(bad.err.find("--mem-bw-schema: `50` does not start with `MB:`"), std::string::npos)
        << bad.describe();
  }
  EXPECT_EQ(status, "running") << "a failed update leaves the container alone";
}

URUN_IT_INSTANTIATE(TimensOffset);
URUN_IT_INSTANTIATE(IntelRdt);

}  // namespace
}  // namespace urun_it
