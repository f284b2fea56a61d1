#include "common/words.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace urun {
namespace {

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view w : split_words(text)) out.emplace_back(w);
  return out;
}

TEST(SplitWords, SplitsAtSpacesTabsAndNewlines) {
  EXPECT_EQ(words_of("         0          0 4294967295\n"),
            (std::vector<std::string>{"0", "0", "4294967295"}));
  EXPECT_EQ(words_of("populated 1\nfrozen 0\n"),
            (std::vector<std::string>{"populated", "1", "frozen", "0"}));
  EXPECT_EQ(words_of("+cpu\t+memory pids"), (std::vector<std::string>{"+cpu", "+memory", "pids"}));
}

TEST(SplitWords, NoWordsInEmptyOrBlankText) {
  EXPECT_TRUE(split_words("").empty());
  EXPECT_TRUE(split_words(" \n\t ").empty());
}

TEST(SplitWords, LastWordWithoutTrailingSpace) {
  EXPECT_EQ(words_of("a"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(words_of("  ab  c"), (std::vector<std::string>{"ab", "c"}));
}

}  // namespace
}  // namespace urun
