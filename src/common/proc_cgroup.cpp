#include "common/proc_cgroup.hpp"

namespace urun {

std::map<std::string, std::string> parse_proc_cgroup(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // "ID:CONTROLLERS:PATH"; the path itself may contain ':'.
    const size_t a = line.find(':');
    const size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    out[std::string(line.substr(a + 1, b - a - 1))] = std::string(line.substr(b + 1));
  }
  return out;
}

}  // namespace urun
