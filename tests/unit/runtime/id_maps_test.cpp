// The id maps planned before clone: the config's mappings as given, crun's default (the caller
// as 0) where the config leaves a side empty or the namespace is automatic, and a bad mapping
// refused with the config field's name. Uses only the caller's own ids, which every caller
// (root or not) may map without subordinate ranges.
#include "runtime/id_maps.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/error.hpp"

namespace urun::runtime {
namespace {

using userns::Mapping;

spec::Spec with_mappings(std::vector<spec::IdMapping> uids, std::vector<spec::IdMapping> gids) {
  spec::Spec s;
  s.linux.emplace();
  s.linux->uid_mappings = std::move(uids);
  s.linux->gid_mappings = std::move(gids);
  return s;
}

TEST(IdMaps, TheConfigsMappingsAreKeptAsGiven) {
  IdMaps m = plan_id_maps(with_mappings({{0, ::geteuid(), 1}}, {{0, ::getegid(), 1}}), false);
  EXPECT_EQ(m.uids, (std::vector<Mapping>{{0, ::geteuid(), 1}}));
  EXPECT_EQ(m.gids, (std::vector<Mapping>{{0, ::getegid(), 1}}));
  EXPECT_FALSE(m.defaulted);
}

TEST(IdMaps, AnEmptySideGetsTheDefaultWithTheCallerAsZero) {
  IdMaps m = plan_id_maps(with_mappings({{0, ::geteuid(), 1}}, {}), false);
  EXPECT_EQ(m.uids, (std::vector<Mapping>{{0, ::geteuid(), 1}}));
  ASSERT_FALSE(m.gids.empty());
  EXPECT_EQ(m.gids.front(), (Mapping{0, ::getegid(), 1}));
  EXPECT_FALSE(m.defaulted) << "only one side is the default";
}

TEST(IdMaps, AnAutomaticNamespaceIgnoresTheConfigAndIsDefaulted) {
  IdMaps m = plan_id_maps(with_mappings({{5, ::geteuid(), 1}}, {{5, ::getegid(), 1}}), true);
  ASSERT_FALSE(m.uids.empty());
  ASSERT_FALSE(m.gids.empty());
  EXPECT_EQ(m.uids.front(), (Mapping{0, ::geteuid(), 1}));
  EXPECT_EQ(m.gids.front(), (Mapping{0, ::getegid(), 1}));
  EXPECT_TRUE(m.defaulted);
}

TEST(IdMaps, ABadMappingNamesTheConfigField) {
  try {
    plan_id_maps(with_mappings({{0, ::geteuid(), 1}}, {{0, ::getegid(), 0}}), false);
    FAIL() << "a mapping of size 0 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("linux.gidMappings"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace urun::runtime
