#include "common/proc_stat.hpp"

#include <charconv>

namespace urun {

std::string_view proc_stat_field(std::string_view line, int n) {
  const auto close = line.rfind(')');
  if (n < 3 || close == std::string_view::npos || close + 2 > line.size() || line[close + 1] != ' ')
    return {};
  std::string_view rest = line.substr(close + 2);  // field 3 onwards
  std::size_t pos = 0;
  for (int field = 3;; ++field) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    if (pos >= rest.size()) return {};
    std::size_t end = rest.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = rest.size();
    if (field == n) return rest.substr(pos, end - pos);
    pos = end;
  }
}

std::optional<std::uint64_t> proc_stat_number(std::string_view line, int n) {
  const std::string_view t = proc_stat_field(line, n);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return value;
}

}  // namespace urun
