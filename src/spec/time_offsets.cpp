#include "spec/time_offsets.hpp"

#include <charconv>
#include <vector>

#include "common/error.hpp"

namespace urun::spec {
namespace {

[[noreturn]] void bad(std::string_view line, const std::string& why) {
  throw Error(std::string(kTimensOffsetAnnotation) + ": " + quote(std::string(line)) + ": " + why,
              EINVAL);
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// The kernel takes a clock's name or its number (CLOCK_MONOTONIC 1, CLOCK_BOOTTIME 7).
std::string clock_name(std::string_view id, std::string_view line) {
  if (id == "monotonic" || id == "1") return "monotonic";
  if (id == "boottime" || id == "7") return "boottime";
  bad(line, "unknown clock " + quote(std::string(id)) + " (want monotonic, boottime, 1 or 7)");
}

template <typename T>
T number(std::string_view text, std::string_view line, const char* what) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    bad(line, std::string(what) + " " + quote(std::string(text)) + " is not a valid number");
  return v;
}

}  // namespace

std::map<std::string, TimeOffset> parse_timens_offset(std::string_view value) {
  std::map<std::string, TimeOffset> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find('\n', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view line = value.substr(start, end - start);
    start = end + 1;
    std::vector<std::string_view> f = fields(line);
    if (f.empty()) continue;
    if (f.size() != 3) bad(line, "want `ID SEC NSEC`");
    TimeOffset off;
    std::string clock = clock_name(f[0], line);
    off.secs = number<int64_t>(f[1], line, "seconds");
    // A leading '-' is not a number to from_chars of an unsigned type: refused as such.
    off.nanosecs = number<uint32_t>(f[2], line, "nanoseconds");
    if (off.nanosecs >= 1000000000u) bad(line, "nanoseconds must be below 1000000000");
    if (!out.emplace(clock, off).second) bad(line, "the " + clock + " clock is given twice");
  }
  if (out.empty())
    throw Error(std::string(kTimensOffsetAnnotation) + ": empty value (want `ID SEC NSEC`)",
                EINVAL);
  return out;
}

std::map<std::string, TimeOffset> effective_time_offsets(const Spec& spec) {
  std::map<std::string, TimeOffset> out;
  if (spec.linux) out = spec.linux->time_offsets;
  const std::string* annotation = spec.annotation(kTimensOffsetAnnotation);
  if (!annotation) return out;
  for (const auto& [clock, off] : parse_timens_offset(*annotation))
    if (!out.emplace(clock, off).second)
      throw Error(std::string(kTimensOffsetAnnotation) + ": the " + clock +
                      " clock's offset is also set by linux.timeOffsets",
                  EINVAL);
  return out;
}

std::string timens_offsets_text(const std::map<std::string, TimeOffset>& offsets) {
  std::string text;
  for (const auto& [clock, off] : offsets)
    text += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  return text;
}

}  // namespace urun::spec
