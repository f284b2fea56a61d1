#include "userns/idmap_option.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"

namespace urun::userns {
namespace {

using Maps = std::vector<Mapping>;

std::string parse_error(std::string_view option, const Maps& uids = {}, const Maps& gids = {}) {
  try {
    parse_idmap_option(option, uids, gids);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(IdmapOption, Recognised) {
  EXPECT_TRUE(is_idmap_option("idmap"));
  EXPECT_TRUE(is_idmap_option("idmap=uids=0-1-10"));
  EXPECT_FALSE(is_idmap_option("idmapx"));
  EXPECT_FALSE(is_idmap_option("ro"));
}

TEST(IdmapOption, BareUsesContainerNamespace) {
  IdmapSpec spec = parse_idmap_option("idmap", {{0, 1000, 1}}, {{0, 1000, 1}});
  EXPECT_FALSE(spec.has_custom);
  EXPECT_TRUE(spec.uids.empty());
  EXPECT_TRUE(spec.gids.empty());
}

TEST(IdmapOption, ManualSyntaxExample) {
  // crun(1): idmap=uids=0-1-10#10-11-10;gids=0-100-10. First value: file system id (inside the
  // mount's namespace), second: host id, third: size -- one uid_map line each.
  IdmapSpec spec = parse_idmap_option("idmap=uids=0-1-10#10-11-10;gids=0-100-10", {}, {});
  EXPECT_TRUE(spec.has_custom);
  EXPECT_EQ(spec.uids, (Maps{{0, 1, 10}, {10, 11, 10}}));
  EXPECT_EQ(spec.gids, (Maps{{0, 100, 10}}));
  EXPECT_EQ(format_id_map(spec.uids), "0 1 10\n10 11 10\n");
}

TEST(IdmapOption, ManualRelativeExample) {
  // crun(1): uids=@1-3-10 with these uidMappings becomes uids=1-4-10.
  const Maps uid_mappings{{0, 0, 1}, {1, 2, 1000}};
  IdmapSpec spec = parse_idmap_option("idmap=uids=@1-3-10", uid_mappings, {});
  EXPECT_TRUE(spec.has_custom);
  EXPECT_EQ(spec.uids, (Maps{{1, 4, 10}}));
  EXPECT_TRUE(spec.gids.empty());
}

TEST(IdmapOption, RelativeUsesTheRightSide) {
  const Maps uids{{0, 1000, 1}, {1, 100000, 65536}};
  const Maps gids{{0, 2000, 1}, {1, 200000, 65536}};
  IdmapSpec spec = parse_idmap_option("idmap=uids=@0-0-1#@1-1-100;gids=@0-0-1#5-6-7", uids, gids);
  EXPECT_EQ(spec.uids, (Maps{{0, 1000, 1}, {1, 100000, 100}}));
  EXPECT_EQ(spec.gids, (Maps{{0, 2000, 1}, {5, 6, 7}}));
}

TEST(IdmapOption, RelativeRangeSplitAcrossContainerMappings) {
  const Maps uids{{0, 1000, 1}, {1, 100000, 65536}};
  IdmapSpec spec = parse_idmap_option("idmap=uids=@0-0-11", uids, {});
  EXPECT_EQ(spec.uids, (Maps{{0, 1000, 1}, {1, 100000, 10}}));
}

TEST(IdmapOption, RelativeOutsideContainerMappings) {
  const Maps uids{{0, 1000, 1}, {1, 100000, 65536}};
  std::string err = parse_error("idmap=uids=@0-65537-1", uids);
  EXPECT_NE(err.find("container id 65537 is not in uidMappings"), std::string::npos) << err;
  // Last container id valid, one past it invalid.
  EXPECT_EQ(parse_error("idmap=uids=@0-65536-1", uids), "");
  err = parse_error("idmap=uids=@0-65536-2", uids);
  EXPECT_NE(err.find("container id 65537 "), std::string::npos) << err;
}

TEST(IdmapOption, RelativeWithoutMappings) {
  std::string err = parse_error("idmap=uids=@1-3-10");
  EXPECT_NE(err.find("needs the container's uidMappings"), std::string::npos) << err;
  err = parse_error("idmap=gids=@1-3-10", {{0, 0, 100}});
  EXPECT_NE(err.find("needs the container's gidMappings"), std::string::npos) << err;
}

TEST(IdmapOption, OnlyOneSide) {
  IdmapSpec spec = parse_idmap_option("idmap=gids=0-100-10", {}, {});
  EXPECT_TRUE(spec.has_custom);
  EXPECT_TRUE(spec.uids.empty());
  EXPECT_EQ(spec.gids, (Maps{{0, 100, 10}}));
}

TEST(IdmapOption, TrailingSeparatorAccepted) {
  EXPECT_EQ(parse_idmap_option("idmap=uids=0-1-1;", {}, {}).uids, (Maps{{0, 1, 1}}));
}

TEST(IdmapOption, Malformed) {
  EXPECT_EQ(parse_error("idmap=uids=1-2"),
            "invalid idmap option `idmap=uids=1-2`: expected [@]<id>-<host id>-<size> in `1-2`");
  EXPECT_NE(parse_error("idmap=").find("nothing after"), std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=").find("no ranges"), std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=0-1-10#").find("expected"), std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=a-1-10").find("expected"), std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=0-1-10-4").find("expected"), std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=-1-1-10").find("expected"), std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=0-1-0").find("size must not be 0"), std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=0-4294967295-2").find("range past 4294967295"),
            std::string::npos);
  EXPECT_NE(parse_error("idmap=users=0-1-1").find("unknown setting `users=0-1-1`"),
            std::string::npos);
  EXPECT_NE(parse_error("idmap=uids=0-1-1;uids=5-5-1").find("uids given twice"), std::string::npos);
  EXPECT_NE(parse_error("idmap=;").find("neither uids= nor gids="), std::string::npos);
}

TEST(IdmapOption, OverlappingRangesRejected) {
  std::string err = parse_error("idmap=uids=0-1-10#5-100-1");
  EXPECT_NE(err.find("uids: ranges [0,10) and [5,6) overlap in the container"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace urun::userns
