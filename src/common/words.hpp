#pragma once
// Splitting text at whitespace without a string stream: the first stream a process makes
// builds the whole classic locale (about 1 MiB; cli/cli11.hpp), which a container's start
// must not pay for reading a few words from /proc or /sys.
#include <string_view>
#include <vector>

namespace urun {

// The words of text (separated by spaces, tabs and newlines), as views into it.
std::vector<std::string_view> split_words(std::string_view text);

}  // namespace urun
