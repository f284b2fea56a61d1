// Process identity from /proc/<pid>/stat and record timestamps.
#include <fcntl.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/proc_stat.hpp"
#include "state/store.hpp"

namespace urun::state {
namespace {

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
  return proc_stat_number(stat_line, 22).value_or(0);  // starttime
}

char parse_stat_state(std::string_view stat_line) {
  std::string_view t = proc_stat_field(stat_line, 3);
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
