#include "userns/subid.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "temp_dir.hpp"

namespace urun::userns {
namespace {

using Ranges = std::vector<SubIdRange>;

TEST(SubidParse, ByName) {
  EXPECT_EQ(parse_subid("alice:100000:65536\nbob:165536:65536\n", "alice", 1000),
            (Ranges{{100000, 65536}}));
  EXPECT_EQ(parse_subid("alice:100000:65536\nbob:165536:65536\n", "bob", 1001),
            (Ranges{{165536, 65536}}));
}

TEST(SubidParse, ByNumericUid) {
  EXPECT_EQ(parse_subid("1000:200000:10\n", "alice", 1000), (Ranges{{200000, 10}}));
  // Another uid's numeric line must not match, nor must a name prefix.
  EXPECT_TRUE(parse_subid("10000:200000:10\nalic:1:1\nalice2:1:1\n", "alice", 1000).empty());
}

TEST(SubidParse, SeveralRangesInFileOrderByNameAndUid) {
  const char* content =
      "alice:300000:100\n"
      "bob:1:1\n"
      "1000:100000:65536\n"
      "alice:500000:5\n";
  EXPECT_EQ(parse_subid(content, "alice", 1000),
            (Ranges{{300000, 100}, {100000, 65536}, {500000, 5}}));
}

TEST(SubidParse, CommentsBlankLinesAndWhitespace) {
  const char* content =
      "# subordinate ids\n"
      "\n"
      "   \n"
      "  alice:100000:65536  \r\n"
      "#alice:1:1\n"
      "alice:7:3";  // no final newline
  EXPECT_EQ(parse_subid(content, "alice", 1000), (Ranges{{100000, 65536}, {7, 3}}));
}

TEST(SubidParse, GarbageLinesAreSkipped) {
  const char* content =
      "alice\n"
      "alice:\n"
      "alice:1\n"
      "alice::5\n"
      "alice:x:5\n"
      "alice:5:y\n"
      "alice:12abc:5\n"
      "alice:-1:5\n"
      "alice:1:2:3\n"
      "alice:99999999999999999999999999:1\n"
      ":1:2\n"
      "alice:10:20\n";
  EXPECT_EQ(parse_subid(content, "alice", 1000), (Ranges{{10, 20}}));
}

TEST(SubidParse, ZeroCountAndOverflowAreSkipped) {
  const char* content =
      "alice:100:0\n"
      "alice:4294967295:2\n"    // one past the id space
      "alice:4294967296:1\n"    // start itself too large
      "alice:4294967295:1\n"    // the very last id: allowed
      "alice:4294967286:10\n";  // ends exactly at 2^32: allowed
  EXPECT_EQ(parse_subid(content, "alice", 1000), (Ranges{{4294967295u, 1}, {4294967286u, 10}}));
}

TEST(SubidParse, EmptyUserNameMatchesOnlyUid) {
  EXPECT_EQ(parse_subid(":1:2\n1000:3:4\n", "", 1000), (Ranges{{3, 4}}));
}

TEST(SubidRead, AbsentFileIsEmpty) {
  EXPECT_TRUE(read_subids("/nonexistent/subuid", "alice", 1000).empty());
}

TEST(SubidRead, ReadsFile) {
  urun_test::TempDir dir("urun-subid");
  std::string path = dir / "subuid";
  std::ofstream(path) << "alice:100000:65536\nbob:1:1\n";
  EXPECT_EQ(read_subids(path, "alice", 1000), (Ranges{{100000, 65536}}));
}

TEST(SubidRead, DirectoryIsAnError) { EXPECT_THROW(read_subids("/", "alice", 1000), Error); }

TEST(SubidUser, NameOfRoot) {
  auto name = user_name(0);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(*name, "root");
}

// The name is remembered per process, but for the uid asked: a second uid is looked up anew.
TEST(SubidUser, RememberedNameFollowsTheUid) {
  EXPECT_EQ(user_name(0), std::optional<std::string>("root"));
  const uid_t nobody = 65534;
  struct passwd* pw = ::getpwuid(nobody);
  EXPECT_EQ(user_name(nobody),
            pw ? std::optional<std::string>(pw->pw_name) : std::optional<std::string>());
  EXPECT_EQ(user_name(0), std::optional<std::string>("root"));
  EXPECT_EQ(user_name(4000000000u), std::nullopt) << "uid with no passwd entry";
}

}  // namespace
}  // namespace urun::userns

namespace urun::userns {
namespace {

TEST(SubidDefaults, RootlessMappingsFromBothFiles) {
  urun_test::TempDir dir("urun-subid");
  const std::string subuid = dir / "subuid", subgid = dir / "subgid";
  // subgid is keyed by the *user* (root here, uid 0), not by a group.
  std::ofstream(subuid) << "root:100000:65536\nother:1:1\n";
  std::ofstream(subgid) << "0:200000:1000\n";
  DefaultMappings m = rootless_default_mappings(0, 0, subuid, subgid);
  EXPECT_EQ(m.uids, (std::vector<Mapping>{{0, 0, 1}, {1, 100000, 65536}}));
  EXPECT_EQ(m.gids, (std::vector<Mapping>{{0, 0, 1}, {1, 200000, 1000}}));
  // Absent files: only the caller.
  m = rootless_default_mappings(1000, 1001, dir / "none", dir / "none");
  EXPECT_EQ(m.uids, (std::vector<Mapping>{{0, 1000, 1}}));
  EXPECT_EQ(m.gids, (std::vector<Mapping>{{0, 1001, 1}}));
}

}  // namespace
}  // namespace urun::userns

namespace urun::userns {
namespace {

TEST(SubidEntries, EveryOwnersValidLinesInFileOrder) {
  const char* content =
      "# comment\n"
      "alice:100000:65536\n"
      "\n"
      "  1001 : 165536 : 10 \n"
      "bob:bad:1\n"           // bad number: skipped
      "carol:1:0\n"           // count 0: skipped
      "dave:1:2:3\n"          // too many fields: skipped
      "erin:4294967295:2\n";  // past 2^32: skipped
  EXPECT_EQ(parse_subid_entries(content),
            (std::vector<SubIdEntry>{{"alice", {100000, 65536}}, {"1001", {165536, 10}}}));
  EXPECT_TRUE(parse_subid_entries("").empty());
}

TEST(SubidEntries, OwnerMatchesByNameOrUid) {
  EXPECT_TRUE(subid_owner_is("alice", "alice", 1000));
  EXPECT_TRUE(subid_owner_is("1000", "alice", 1000));
  EXPECT_TRUE(subid_owner_is("1000", "", 1000));
  EXPECT_FALSE(subid_owner_is("alice2", "alice", 1000));
  EXPECT_FALSE(subid_owner_is("10000", "alice", 1000));
  // No name: an empty owner never matches.
  EXPECT_FALSE(subid_owner_is("", "", 1000));
}

TEST(SubidEntries, ReadFileAbsentIsEmpty) {
  EXPECT_EQ(read_subid_file("/nonexistent/urun-subid"), "");
}

}  // namespace
}  // namespace urun::userns
