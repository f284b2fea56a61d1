// Process identity from /proc/<pid>/stat and record timestamps.
#include <fcntl.h>
#include <time.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "state/store.hpp"

namespace urun::state {
namespace {

// Field 3 onwards (state, ppid, ...), or empty when the line is malformed.
// comm (field 2) is "(...)" and may contain anything, ')' and spaces
// included, but nothing after it can contain ')', so the last one ends it.
std::string_view after_comm(std::string_view line) {
  auto close = line.rfind(')');
  if (close == std::string_view::npos || close + 2 > line.size() || line[close + 1] != ' ')
    return {};
  return line.substr(close + 2);
}

// The n-th (0-based) space-separated token of s.
std::string_view token(std::string_view s, int n) {
  size_t pos = 0;
  for (int i = 0;; ++i) {
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos >= s.size()) return {};
    size_t end = s.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = s.size();
    if (i == n) return s.substr(pos, end - pos);
    pos = end;
  }
}

std::optional<std::string> read_stat(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  try {
    return fs::read_file_at(AT_FDCWD, "/proc/" + std::to_string(pid) + "/stat");
  } catch (const Error& e) {
    // ESRCH: the process went away between open and read.
    if (e.code() == ESRCH) return std::nullopt;
    throw;
  }
}

}  // namespace

uint64_t parse_stat_start_time(std::string_view stat_line) {
  // starttime is field 22; after_comm starts at field 3.
  std::string_view t = token(after_comm(stat_line), 22 - 3);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return 0;
  return value;
}

char parse_stat_state(std::string_view stat_line) {
  std::string_view t = token(after_comm(stat_line), 0);
  return t.size() == 1 ? t[0] : '\0';
}

uint64_t process_start_time(pid_t pid) {
  auto line = read_stat(pid);
  return line ? parse_stat_start_time(*line) : 0;
}

bool process_alive(pid_t pid, uint64_t start_time) {
  auto line = read_stat(pid);
  if (!line) return false;
  char state = parse_stat_state(*line);
  // A zombie has exited: only its exit status is left for the parent.
  if (state == '\0' || state == 'Z' || state == 'X') return false;
  return start_time == 0 || parse_stat_start_time(*line) == start_time;
}

// Civil date by arithmetic (std::chrono's calendar types): gmtime_r would load the time zone
// (/etc/localtime) on its first call, a file read on every create for a UTC timestamp.
std::string rfc3339_utc(const timespec& ts) {
  using namespace std::chrono;
  const sys_seconds secs{seconds{ts.tv_sec}};
  const sys_days day = floor<days>(secs);
  const year_month_day date{day};
  const hh_mm_ss<seconds> time{secs - day};
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02ld:%02ld:%02lld.%09ldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long>(time.hours().count()),
                static_cast<long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()), static_cast<long>(ts.tv_nsec));
  return out;
}

std::string rfc3339_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339_utc(ts);
}

}  // namespace urun::state
