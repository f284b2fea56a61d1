// linux/intel_rdt and linux/resctrl: linux.intelRdt parsing and checks, the schemata text, the
// comparison with an existing group, and the group handling against a plain directory laid out
// as a resctrl mount (the kernel's own files made by hand). Touches only a temp dir.
#include "linux/intel_rdt.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/error.hpp"
#include "files.hpp"
#include "linux/resctrl.hpp"
#include "temp_dir.hpp"

namespace {

using urun_test::put;
using urun_test::slurp;

using nlohmann::json;
using urun::linux::IntelRdt;
using urun::linux::parse_intel_rdt;
using urun::linux::schemata_match;
using urun::linux::schemata_text;

std::string error_of(const json& j) {
  try {
    parse_intel_rdt(j);
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), EINVAL) << e.what();
    return e.what();
  }
  return "<valid>";
}

TEST(IntelRdtConfig, ParsesEveryField) {
  IntelRdt r = parse_intel_rdt({{"closID", "guaranteed"},
                                {"l3CacheSchema", "L3:0=7f0;1=1f"},
                                {"memBwSchema", "MB:0=20;1=70"},
                                {"schemata", {"L2:0=ff;1=ff"}},
                                {"enableMonitoring", true}});
  EXPECT_EQ(r.clos_id, "guaranteed");
  EXPECT_EQ(r.l3_cache_schema, "L3:0=7f0;1=1f");
  EXPECT_EQ(r.mem_bw_schema, "MB:0=20;1=70");
  EXPECT_EQ(r.schemata, std::vector<std::string>{"L2:0=ff;1=ff"});
  EXPECT_TRUE(r.enable_monitoring);
  EXPECT_TRUE(r.has_schema());
  IntelRdt empty = parse_intel_rdt(json::object());
  EXPECT_FALSE(empty.clos_id);
  EXPECT_FALSE(empty.has_schema());
  EXPECT_FALSE(empty.enable_monitoring);
  // runtime-spec 1.1-1.2's monitoring flags were replaced by enableMonitoring.
  EXPECT_TRUE(parse_intel_rdt({{"enableCMT", true}}).enable_monitoring);
  EXPECT_TRUE(parse_intel_rdt({{"enableMBM", true}}).enable_monitoring);
  EXPECT_TRUE(parse_intel_rdt({{"closID", "/"}}).default_clos());
}

TEST(IntelRdtConfig, RefusesWhatCannotBeApplied) {
  EXPECT_EQ(error_of(json::array()), "linux.intelRdt: must be an object");
  EXPECT_EQ(error_of({{"closID", ""}}), "linux.intelRdt.closID: must not be empty");
  for (const char* bad : {".", "..", "a/b", "/x", "../x"})
    EXPECT_EQ(error_of({{"closID", bad}}),
              std::string("linux.intelRdt.closID: `") + bad + "` is not a valid resctrl group name")
        << bad;
  EXPECT_EQ(error_of({{"closID", "info"}}),
            "linux.intelRdt.closID: `info` names a resctrl control file, not a group");
  EXPECT_EQ(error_of({{"closID", 5}}), "linux.intelRdt.closID: must be a string");
  EXPECT_EQ(error_of({{"memBwSchema", "L3:0=ff"}}),
            "linux.intelRdt.memBwSchema: `L3:0=ff` does not start with `MB:`");
  EXPECT_EQ(error_of({{"memBwSchema", "MB:0=20\nMB:1=30"}}),
            "linux.intelRdt.memBwSchema: must not hold a newline or NUL byte");
  EXPECT_EQ(error_of({{"schemata", {"L3:0=ff", "MB:0=1\nL3:0=1"}}}),
            "linux.intelRdt.schemata[1]: must not hold a newline or NUL byte");
  EXPECT_EQ(error_of({{"schemata", {" "}}}), "linux.intelRdt.schemata[0]: must not be empty");
  EXPECT_EQ(error_of({{"schemata", "L3:0=ff"}}),
            "linux.intelRdt.schemata: must be an array of strings");
  EXPECT_EQ(error_of({{"enableMonitoring", "yes"}}),
            "linux.intelRdt.enableMonitoring: must be a boolean");
}

TEST(IntelRdtConfig, UpdateFlagsAreChecked) {
  EXPECT_NO_THROW(urun::linux::check_schema_flag("L3:0=f", "L3", "--l3-cache-schema"));
  EXPECT_NO_THROW(urun::linux::check_schema_flag("L3CODE:0=f", "L3", "--l3-cache-schema"));
  try {
    urun::linux::check_schema_flag("0=f", "MB:", "--mem-bw-schema");
    ADD_FAILURE() << "accepted";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(), "--mem-bw-schema: `0=f` does not start with `MB:`");
  }
}

TEST(IntelRdtSchemata, WrittenInTheSpecsOrder) {
  EXPECT_EQ(schemata_text(std::nullopt, std::nullopt), "");
  EXPECT_EQ(schemata_text("L3:0=f", std::nullopt), "L3:0=f\n");
  EXPECT_EQ(schemata_text("L3:0=f", "MB:0=50", {"L2:0=3", "L3:1=1\n"}),
            "L3:0=f\nMB:0=50\nL2:0=3\nL3:1=1\n");
  EXPECT_EQ(schemata_text(std::nullopt, "MB:0=50", {"L2:0=3"}), "MB:0=50\nL2:0=3\n");
}

TEST(IntelRdtSchemata, ComparesDomainsNotText) {
  // As the kernel prints a group's schemata: padded names, leading zeros.
  const std::string have = "    L3:0=007f0;1=0001f\n    MB:0= 20;1= 70\n";
  EXPECT_TRUE(schemata_match(have, "L3:1=1f;0=7f0", std::nullopt));
  EXPECT_TRUE(schemata_match(have, std::nullopt, "MB:0=20;1=70"));
  EXPECT_TRUE(schemata_match(have, "L3:0=7f0;1=1f", "MB:1=70;0=20"));
  std::string differs;
  EXPECT_FALSE(schemata_match(have, "L3:0=7f0;1=ff", std::nullopt, &differs));
  EXPECT_EQ(differs, "L3:0=007f0;1=0001f");
  EXPECT_FALSE(schemata_match(have, std::nullopt, "MB:0=20", &differs));
  EXPECT_EQ(differs, "MB:0= 20;1= 70");
  EXPECT_FALSE(schemata_match(have, "L3:0=zz", std::nullopt, &differs));
  EXPECT_EQ(differs, "L3:0=zz");
}

// A directory laid out as a resctrl mount with CAT, MBA and monitoring.
class FakeResctrl : public ::testing::Test {
 protected:
  void SetUp() override {
    root = tmp.path();
    for (const char* d : {"/info", "/info/L3", "/info/MB", "/info/L3_MON", "/mon_groups"})
      ::mkdir((root + d).c_str(), 0755);
    put(root + "/info/last_cmd_status", "ok\n");
    put(root + "/schemata", "L3:0=fffff\nMB:0=100\n");
    put(root + "/tasks", "");
  }
  // What the kernel makes in a new group: its files and mon_groups.
  void fill_group(const std::string& dir) {
    put(dir + "/schemata", "");
    put(dir + "/tasks", "");
    ::mkdir((dir + "/mon_groups").c_str(), 0755);
  }
  urun_test::TempDir tmp{"urun-resctrl"};
  std::string root;
};

TEST_F(FakeResctrl, PlanNamesTheGroupAndChecksFeatures) {
  auto plan = urun::linux::plan_resctrl(parse_intel_rdt({{"enableMonitoring", true}}), "c1", root);
  EXPECT_EQ(plan.group, root + "/c1");
  EXPECT_EQ(plan.mon_group, root + "/c1/mon_groups/c1");
  EXPECT_FALSE(plan.named);
  plan = urun::linux::plan_resctrl(parse_intel_rdt({{"closID", "/"}}), "c1", root);
  EXPECT_EQ(plan.group, root);
  EXPECT_TRUE(plan.named);
  // A closID without schemas names a group made beforehand.
  try {
    urun::linux::plan_resctrl(parse_intel_rdt({{"closID", "gold"}}), "c1", root);
    ADD_FAILURE() << "a missing pre-made group was accepted";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("gold` does not exist"), std::string::npos) << e.what();
  }
  ::rmdir((root + "/info/MB").c_str());
  try {
    urun::linux::plan_resctrl(parse_intel_rdt({{"memBwSchema", "MB:0=10"}}), "c1", root);
    ADD_FAILURE() << "memBwSchema accepted without MBA";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), ENOTSUP);
    EXPECT_NE(std::string(e.what()).find("(MBA) is not enabled"), std::string::npos) << e.what();
  }
}

// A plain directory has none of the files the kernel puts in a new group, so the write of its
// schemata fails as a refusal would: the group urun made is removed again.
TEST_F(FakeResctrl, FailedApplyRemovesTheGroupItMade) {
  auto plan = urun::linux::plan_resctrl(
      parse_intel_rdt({{"l3CacheSchema", "L3:0=f0"}, {"memBwSchema", "MB:0=30"}}), "c1", root);
  EXPECT_THROW(urun::linux::apply_resctrl(plan, 4242), urun::Error);
  struct stat st;
  EXPECT_NE(::stat(plan.group.c_str(), &st), 0) << "a failed apply must remove the group it made";
}

// The container's own group (no closID) made beforehand with the kernel's files: the schemata
// lines are written in order, the task is added, the monitoring group made and reported.
TEST_F(FakeResctrl, GroupGetsSchemataTasksAndMonitoring) {
  const std::string group = root + "/c1";
  ::mkdir(group.c_str(), 0755);
  fill_group(group);
  auto plan = urun::linux::plan_resctrl(
      parse_intel_rdt({{"schemata", {"L3:0=f0", "MB:0=30"}}, {"enableMonitoring", true}}), "c1",
      root);
  // In a plain directory nobody makes the new monitoring group's tasks file (the kernel
  // would): its write fails and the monitoring group urun made is removed again.
  std::vector<std::string> made;
  EXPECT_THROW(made = urun::linux::apply_resctrl(plan, 4242), urun::Error);
  struct stat st;
  EXPECT_NE(::stat((group + "/mon_groups/c1").c_str(), &st), 0);
  EXPECT_EQ(slurp(group + "/schemata"), "L3:0=f0\nMB:0=30\n");
  // Without monitoring it all succeeds.
  put(group + "/schemata", "");  // a kernel file has no old content to overwrite
  plan = urun::linux::plan_resctrl(parse_intel_rdt({{"schemata", {"L3:0=f"}}}), "c1", root);
  made = urun::linux::apply_resctrl(plan, 4242);
  EXPECT_TRUE(made.empty()) << "a group that existed is not the container's to remove";
  EXPECT_EQ(slurp(group + "/schemata"), "L3:0=f\n");
  EXPECT_EQ(slurp(group + "/tasks"), "4242");
}

TEST_F(FakeResctrl, ExistingNamedGroupIsComparedAndKept) {
  const std::string gold = root + "/gold";
  ::mkdir(gold.c_str(), 0755);
  fill_group(gold);
  put(gold + "/schemata", "    L3:0=000f0\n    MB:0= 30\n");
  auto plan = urun::linux::plan_resctrl(
      parse_intel_rdt({{"closID", "gold"}, {"l3CacheSchema", "L3:0=f0"}}), "c1", root);
  std::vector<std::string> made = urun::linux::apply_resctrl(plan, 4242);
  // The named group is shared: it outlives the container.
  EXPECT_TRUE(made.empty());
  EXPECT_EQ(slurp(gold + "/tasks"), "4242");
  EXPECT_EQ(slurp(gold + "/schemata"), "    L3:0=000f0\n    MB:0= 30\n") << "compared, not written";

  // Another configuration than the group's is an error, and nothing is made.
  auto other = urun::linux::plan_resctrl(
      parse_intel_rdt({{"closID", "gold"}, {"l3CacheSchema", "L3:0=ff"}}), "c2", root);
  try {
    urun::linux::apply_resctrl(other, 4243);
    ADD_FAILURE() << "a different configuration was accepted";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), EEXIST);
    EXPECT_NE(std::string(e.what()).find("exists with another configuration (`L3:0=000f0`)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(slurp(gold + "/tasks"), "4242");
}

TEST_F(FakeResctrl, RemovesOnlyWhatItIsGiven) {
  const std::string mon = root + "/mon_groups/c1";
  ::mkdir(mon.c_str(), 0755);
  urun::linux::remove_resctrl_dirs({mon, root + "/gone"});
  struct stat st;
  EXPECT_NE(::stat(mon.c_str(), &st), 0);
  EXPECT_EQ(::stat((root + "/mon_groups").c_str(), &st), 0);
}

TEST_F(FakeResctrl, UpdateRewritesTheGivenLines) {
  const std::string group = root + "/c1";
  ::mkdir(group.c_str(), 0755);
  fill_group(group);
  auto plan = urun::linux::plan_resctrl(parse_intel_rdt({{"l3CacheSchema", "L3:0=f"}}), "c1", root);
  urun::linux::update_resctrl_schemata(plan, "L3:0=3", "MB:0=40");
  EXPECT_EQ(slurp(group + "/schemata"), "L3:0=3\nMB:0=40\n");
  put(group + "/schemata", "");  // a kernel file has no old content to overwrite
  urun::linux::update_resctrl_schemata(plan, std::nullopt, "MB:0=50");
  EXPECT_EQ(slurp(group + "/schemata"), "MB:0=50\n");
}

TEST_F(FakeResctrl, KernelRefusalCarriesLastCmdStatus) {
  const std::string group = root + "/c1";
  ::mkdir(group.c_str(), 0755);
  fill_group(group);
  put(root + "/info/last_cmd_status", "Mask out of range\n");
  auto plan = urun::linux::plan_resctrl(parse_intel_rdt({{"closID", "c1"}}), "c1", root);
  ::unlink((group + "/tasks").c_str());  // the write fails as a kernel refusal would
  try {
    urun::linux::add_resctrl_task(plan, 1);
    ADD_FAILURE() << "accepted";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("(resctrl: Mask out of range)"), std::string::npos)
        << e.what();
  }
}

}  // namespace
