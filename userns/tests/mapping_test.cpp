#include "userns/mapping.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"

namespace urun::userns {
namespace {

using Maps = std::vector<Mapping>;

std::string validation_error(const Maps& maps) {
  try {
    validate_mappings(maps, "uidMappings");
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

std::string availability_error(const Maps& maps, uint32_t caller,
                               const std::vector<SubIdRange>& allowed) {
  try {
    check_available(maps, caller, allowed, "uidMappings");
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(MappingDefault, CallerThenRangesFromOne) {
  EXPECT_EQ(default_mapping(1000, {{100000, 65536}}), (Maps{{0, 1000, 1}, {1, 100000, 65536}}));
}

TEST(MappingDefault, SeveralRangesAreConsecutive) {
  EXPECT_EQ(default_mapping(1000, {{100000, 10}, {200000, 5}, {50, 1}}),
            (Maps{{0, 1000, 1}, {1, 100000, 10}, {11, 200000, 5}, {16, 50, 1}}));
}

TEST(MappingDefault, NoRangesOnlyCaller) {
  EXPECT_EQ(default_mapping(1000, {}), (Maps{{0, 1000, 1}}));
}

TEST(MappingDefault, CallerInsideRangeIsSplitOut) {
  EXPECT_EQ(default_mapping(1005, {{1000, 10}}), (Maps{{0, 1005, 1}, {1, 1000, 5}, {6, 1006, 4}}));
}

TEST(MappingDefault, CallerAtRangeEdgesIsDropped) {
  EXPECT_EQ(default_mapping(1000, {{1000, 10}}), (Maps{{0, 1000, 1}, {1, 1001, 9}}));
  EXPECT_EQ(default_mapping(1009, {{1000, 10}}), (Maps{{0, 1009, 1}, {1, 1000, 9}}));
  // A range that is only the caller adds nothing.
  EXPECT_EQ(default_mapping(1000, {{1000, 1}}), (Maps{{0, 1000, 1}}));
}

TEST(MappingDefault, DuplicateAndOverlappingRangesMapEachHostIdOnce) {
  Maps maps = default_mapping(1, {{100, 10}, {105, 10}, {100, 10}});
  EXPECT_EQ(maps, (Maps{{0, 1, 1}, {1, 100, 10}, {11, 110, 5}}));
  EXPECT_NO_THROW(validate_mappings(maps, "uidMappings"));
}

TEST(MappingDefault, ResultAlwaysValidates) {
  Maps maps = default_mapping(4294967294u, {{4294967286u, 10}, {0, 100}});
  EXPECT_NO_THROW(validate_mappings(maps, "uidMappings"));
  EXPECT_EQ(maps.front(), (Mapping{0, 4294967294u, 1}));
  EXPECT_EQ(maps[1], (Mapping{1, 4294967286u, 8}));  // ...86 to ...93
  EXPECT_EQ(maps[2], (Mapping{9, 4294967295u, 1}));
  EXPECT_EQ(maps[3], (Mapping{10, 0, 100}));
}

TEST(MappingDefault, WholeIdSpaceMapsEveryIdOnce) {
  // Host ids are deduplicated, so they can never outnumber container ids: all 2^32 fit exactly.
  Maps maps = default_mapping(5, {{0, 4294967295u}, {4294967295u, 1}});
  EXPECT_NO_THROW(validate_mappings(maps, "uidMappings"));
  EXPECT_EQ(maps, (Maps{{0, 5, 1}, {1, 0, 5}, {6, 6, 4294967289u}, {4294967295u, 4294967295u, 1}}));
}

TEST(MappingValidate, AcceptsTypical) {
  EXPECT_EQ(validation_error({{0, 1000, 1}, {1, 100000, 65536}}), "");
  EXPECT_EQ(validation_error({}), "");
}

TEST(MappingValidate, ZeroSize) {
  EXPECT_EQ(validation_error({{0, 0, 1}, {1, 1, 0}}), "uidMappings[1]: size must not be 0");
}

TEST(MappingValidate, RangePastIdSpace) {
  EXPECT_EQ(validation_error({{4294967295u, 0, 2}}), "uidMappings[0]: range past 4294967295");
  EXPECT_EQ(validation_error({{0, 4294967295u, 2}}), "uidMappings[0]: range past 4294967295");
  // Ending exactly at 2^32 is fine.
  EXPECT_EQ(validation_error({{4294967295u, 4294967295u, 1}}), "");
}

TEST(MappingValidate, OverlapInContainer) {
  EXPECT_EQ(validation_error({{0, 100000, 65536}, {1000, 1000, 1}}),
            "uidMappings: ranges [0,65536) and [1000,1001) overlap in the container");
  // Reported in index order even when the later entry starts first.
  EXPECT_EQ(validation_error({{1000, 1000, 1}, {0, 100000, 65536}}),
            "uidMappings: ranges [1000,1001) and [0,65536) overlap in the container");
}

TEST(MappingValidate, AdjacentRangesDoNotOverlap) {
  EXPECT_EQ(validation_error({{0, 0, 10}, {10, 10, 10}}), "");
  EXPECT_EQ(validation_error({{0, 0, 10}, {9, 10, 10}}),
            "uidMappings: ranges [0,10) and [9,19) overlap in the container");
}

TEST(MappingValidate, OverlapOnHost) {
  EXPECT_EQ(validation_error({{0, 1000, 1}, {1, 500, 501}}),
            "uidMappings: ranges [1000,1001) and [500,1001) overlap on the host");
}

TEST(MappingValidate, LongRangeSwallowingSeveral) {
  EXPECT_EQ(validation_error({{0, 0, 100}, {200, 200, 1}, {50, 1000, 1}}),
            "uidMappings: ranges [0,100) and [50,51) overlap in the container");
}

TEST(MappingValidate, TooManyLines) {
  Maps maps;
  for (uint32_t i = 0; i < 341; ++i) maps.push_back({i, i, 1});
  EXPECT_EQ(validation_error(maps), "uidMappings: 341 ranges, the kernel accepts at most 340");
  maps.pop_back();
  EXPECT_EQ(validation_error(maps), "");
}

TEST(MappingAvailable, CallerAndRanges) {
  EXPECT_EQ(availability_error({{0, 1000, 1}, {1, 100000, 65536}}, 1000, {{100000, 65536}}), "");
}

TEST(MappingAvailable, LastIdOfRangeValidOnePastInvalid) {
  // Range [100000, 165536): 165535 is the last valid host id.
  EXPECT_EQ(availability_error({{1, 165535, 1}}, 1000, {{100000, 65536}}), "");
  EXPECT_EQ(availability_error({{1, 165536, 1}}, 1000, {{100000, 65536}}),
            "uidMappings[0]: host id 165536 is not available to id 1000 (neither its own id nor "
            "in its subordinate ranges)");
  // A mapping running one past the end names exactly that id.
  std::string err = availability_error({{0, 1000, 1}, {1, 100000, 65537}}, 1000, {{100000, 65536}});
  EXPECT_NE(err.find("uidMappings[1]: host id 165536 "), std::string::npos) << err;
  // And one before the start.
  err = availability_error({{1, 99999, 2}}, 1000, {{100000, 65536}});
  EXPECT_NE(err.find("host id 99999 "), std::string::npos) << err;
}

TEST(MappingAvailable, SpanningAdjacentRangesAndOwnId) {
  // 999 (range) + 1000 (own id) + 1001..1010 (range): contiguous availability.
  EXPECT_EQ(availability_error({{0, 999, 12}}, 1000, {{990, 10}, {1001, 10}}), "");
  std::string err = availability_error({{0, 999, 13}}, 1000, {{990, 10}, {1001, 10}});
  EXPECT_NE(err.find("host id 1011 "), std::string::npos) << err;
}

TEST(MappingAvailable, OtherUsersIdRejected) {
  std::string err = availability_error({{0, 0, 1}}, 1000, {});
  EXPECT_NE(err.find("uidMappings[0]: host id 0 "), std::string::npos) << err;
}

TEST(MappingText, FormatAndParseRoundTrip) {
  Maps maps{{0, 1000, 1}, {1, 100000, 65536}};
  EXPECT_EQ(format_id_map(maps), "0 1000 1\n1 100000 65536\n");
  EXPECT_EQ(parse_id_map(format_id_map(maps)), maps);
  // The kernel's own layout pads with spaces.
  EXPECT_EQ(parse_id_map("         0       1000          1\n"), (Maps{{0, 1000, 1}}));
  EXPECT_TRUE(parse_id_map("").empty());
  EXPECT_THROW(parse_id_map("0 1\n"), Error);
  EXPECT_THROW(parse_id_map("0 1 x\n"), Error);
}

TEST(MappingText, ToHostId) {
  Maps maps{{0, 1000, 1}, {1, 100000, 65536}};
  uint32_t host = 0;
  EXPECT_TRUE(to_host_id(maps, 0, host));
  EXPECT_EQ(host, 1000u);
  EXPECT_TRUE(to_host_id(maps, 65536, host));
  EXPECT_EQ(host, 165535u);
  EXPECT_FALSE(to_host_id(maps, 65537, host));
}

TEST(MappingText, SingleOwnId) {
  EXPECT_TRUE(is_single_own_id({{0, 1000, 1}}, 1000));
  EXPECT_TRUE(is_single_own_id({{5, 1000, 1}}, 1000));
  EXPECT_FALSE(is_single_own_id({{0, 1000, 2}}, 1000));
  EXPECT_FALSE(is_single_own_id({{0, 1000, 1}, {1, 100000, 1}}, 1000));
  EXPECT_FALSE(is_single_own_id({{0, 1001, 1}}, 1000));
}

}  // namespace
}  // namespace urun::userns
