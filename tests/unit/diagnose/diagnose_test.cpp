// `urun check`: the pure parts (overlaps, free ranges, the text and JSON report).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "diagnose/check.hpp"

namespace urun::diagnose {
namespace {

using userns::SubIdEntry;

TEST(DiagnoseOverlaps, FindsRangesSharedWithOtherUsers) {
  const std::vector<SubIdEntry> entries = {
      {"alice", {100000, 65536}},                           // mine, overlaps bob's start
      {"bob", {165535, 65536}},   {"carol", {300000, 10}},  // no overlap
      {"1000", {300005, 10}},                               // mine by uid, overlaps carol's
      {"alice", {500000, 5}},                               // mine, touches dave's end only
      {"dave", {499990, 10}},
  };
  std::vector<Overlap> o = find_overlaps(entries, "alice", 1000);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].mine, (userns::SubIdRange{100000, 65536}));
  EXPECT_EQ(o[0].other_owner, "bob");
  EXPECT_EQ(o[0].theirs, (userns::SubIdRange{165535, 65536}));
  EXPECT_EQ(o[1].mine, (userns::SubIdRange{300005, 10}));
  EXPECT_EQ(o[1].other_owner, "carol");
}

TEST(DiagnoseOverlaps, OwnRangesNeverOverlapThemselves) {
  // The same user by name and by uid, ranges that overlap: not another user's.
  EXPECT_TRUE(find_overlaps({{"alice", {1, 10}}, {"1000", {5, 10}}}, "alice", 1000).empty());
  EXPECT_TRUE(find_overlaps({}, "alice", 1000).empty());
  // A user without ranges overlaps no one.
  EXPECT_TRUE(find_overlaps({{"bob", {1, 10}}, {"carol", {5, 10}}}, "alice", 1000).empty());
}

TEST(DiagnoseOverlaps, FirstFreeIdIsPastEveryRangeAndNotBelow100000) {
  EXPECT_EQ(first_free_id({}), 100000u);
  EXPECT_EQ(first_free_id({{"a", {1000, 10}}}), 100000u);
  EXPECT_EQ(first_free_id({{"a", {100000, 65536}}, {"b", {200000, 65536}}}), 265536u);
  // The last id of the id space: 2^32 fits in the 64-bit result.
  EXPECT_EQ(first_free_id({{"a", {4294967295u, 1}}}), 4294967296u);
  EXPECT_EQ(range_text(100000, 65536), "100000-165535");
  EXPECT_EQ(range_text(5, 1), "5-5");
}

Findings sample() {
  return {{"user namespaces", Status::ok, "created", "ignored for ok"},
          {"newuidmap", Status::fail, "/x/newuidmap is not setuid", "sudo chmod u+s /x/newuidmap"},
          {"criu", Status::warn, "not in PATH", "sudo apt-get install criu"}};
}

TEST(DiagnoseReport, TextHasOneAlignedLinePerCheckWithFixesForWarnAndFail) {
  EXPECT_EQ(format_text(sample()),
            "ok    user namespaces  created\n"
            "fail  newuidmap        /x/newuidmap is not setuid -- fix: sudo chmod u+s "
            "/x/newuidmap\n"
            "warn  criu             not in PATH -- fix: sudo apt-get install criu\n");
  EXPECT_EQ(format_text({}), "");
}

TEST(DiagnoseReport, JsonIsAnArrayOfCheckStatusDetailFix) {
  nlohmann::json j = nlohmann::json::parse(format_json(sample()));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(
      j[0],
      (nlohmann::json{
          {"check", "user namespaces"}, {"status", "ok"}, {"detail", "created"}, {"fix", ""}}));
  EXPECT_EQ(j[1]["status"], "fail");
  EXPECT_EQ(j[1]["fix"], "sudo chmod u+s /x/newuidmap");
  EXPECT_EQ(j[2]["status"], "warn");
  EXPECT_EQ(j[2]["check"], "criu");
  EXPECT_EQ(nlohmann::json::parse(format_json({})), nlohmann::json::array());
}

TEST(DiagnoseReport, JsonSurvivesBytesThatAreNotUtf8) {
  // An XDG_RUNTIME_DIR of arbitrary bytes must not make the report throw.
  const std::string json = format_json({{"XDG_RUNTIME_DIR", Status::fail, "/run/\xff", "x"}});
  nlohmann::json j = nlohmann::json::parse(json);
  EXPECT_EQ(j[0]["detail"], "/run/\xef\xbf\xbd");
}

TEST(DiagnoseReport, ExitStatusFailsOnlyOnFail) {
  EXPECT_EQ(exit_status(sample()), 1);
  EXPECT_EQ(exit_status({{"a", Status::ok, "", ""}, {"b", Status::warn, "", "x"}}), 0);
  EXPECT_EQ(exit_status({}), 0);
}

}  // namespace
}  // namespace urun::diagnose
