#include <gtest/gtest.h>

#include "common/error.hpp"
#include "container/commands.hpp"

namespace {

using urun::container::parse_size;

TEST(UpdateParseSize, UnitsAreBase1024) {
  EXPECT_EQ(parse_size("0", "--memory"), 0);
  EXPECT_EQ(parse_size("4096", "--memory"), 4096);
  EXPECT_EQ(parse_size("1k", "--memory"), 1024);
  EXPECT_EQ(parse_size("64m", "--memory"), 64LL * 1024 * 1024);
  EXPECT_EQ(parse_size("64M", "--memory"), 64LL * 1024 * 1024);
  EXPECT_EQ(parse_size("2g", "--memory"), 2LL * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_size("1GiB", "--memory"), 1024LL * 1024 * 1024);
  EXPECT_EQ(parse_size("1.5k", "--memory"), 1536);
  EXPECT_EQ(parse_size("-1", "--memory"), -1);
}

TEST(UpdateParseSize, GarbageIsRefusedNamingTheFlag) {
  for (const char* bad : {"", "m", "12x", "-5", "1kk", "abc"}) {
    try {
      parse_size(bad, "--memory");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const urun::Error& e) {
      EXPECT_NE(std::string(e.what()).find("--memory"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(parse_size("99999999t", "--memory"), urun::Error);
}

}  // namespace
