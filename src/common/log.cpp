#include "common/log.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace urun::log {
namespace {

enum class Backend { stderr_only, file, syslog, journald };

struct Config {
  Backend backend = Backend::stderr_only;
  Format format = Format::text;
  Level level = Level::error;
  UniqueFd fd;
  std::string ident = "urun";
  Sink sink = nullptr;
};

Config& config() {
  static Config c;
  return c;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::error:
      return "error";
    case Level::warning:
      return "warning";
    case Level::debug:
      return "debug";
  }
  return "error";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
            1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us));
  return buf;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // logging must never fail the operation
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
}

std::string format_line(Level level, std::string_view message) {
  const Config& c = config();
  if (c.format == Format::json) {
    nlohmann::json j = {{"level", level_name(level)}, {"msg", message}, {"time", timestamp()}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  return timestamp() + " " + level_name(level) + ": " + std::string(message) + "\n";
}

void write_journald(Level level, std::string_view message) {
  // The journal's native protocol: one datagram of KEY=VALUE lines.
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "/run/systemd/journal/socket");
  int prio = level == Level::error ? 3 : level == Level::warning ? 4 : 7;
  std::string msg(message);
  for (char& ch : msg)
    if (ch == '\n') ch = ' ';
  std::string dgram = "PRIORITY=" + std::to_string(prio) + "\nSYSLOG_IDENTIFIER=" + config().ident +
                      "\nMESSAGE=" + msg + "\n";
  ::sendto(fd.get(), dgram.data(), dgram.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
           sizeof addr);
}

}  // namespace

Level parse_level(std::string_view name) {
  if (name == "error") return Level::error;
  if (name == "warning" || name == "warn" || name == "info") return Level::warning;
  if (name == "debug") return Level::debug;
  throw Error("invalid log level " + quote(name) + ": expected debug, warning or error");
}

Format parse_format(std::string_view name) {
  if (name == "text") return Format::text;
  if (name == "json") return Format::json;
  throw Error("invalid log format " + quote(name) + ": expected text or json");
}

void configure(std::string_view destination, Format format, Level level) {
  Config& c = config();
  c.format = format;
  c.level = level;
  c.backend = Backend::stderr_only;
  c.fd.reset();
  if (destination.empty()) return;
  std::string_view spec = destination;
  if (spec.starts_with("journald:")) {
    c.backend = Backend::journald;
    c.ident = std::string(spec.substr(9));
    if (c.ident.empty()) c.ident = "urun";
    return;
  }
  if (spec.starts_with("syslog:")) {
    c.backend = Backend::syslog;
    c.ident = std::string(spec.substr(7));
    if (c.ident.empty()) c.ident = "urun";
    ::openlog(c.ident.c_str(), LOG_PID, LOG_USER);
    return;
  }
  if (spec.starts_with("file:")) spec.remove_prefix(5);
  if (spec.empty()) throw Error("invalid log destination " + quote(destination) + ": empty path");
  std::string path(spec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("open log file " + quote(path));
  c.fd.reset(fd);
  c.backend = Backend::file;
}

bool enabled(Level level) { return static_cast<int>(level) <= static_cast<int>(config().level); }

bool has_destination() { return config().backend != Backend::stderr_only; }

void set_sink(Sink sink) { config().sink = sink; }

void write(Level level, std::string_view message) {
  Config& c = config();
  // Before the sink too: the init inherits the level, and a line nobody will
  // print must not cost a round of the sync socket during start-up.
  if (!enabled(level)) return;
  if (c.sink) {
    c.sink(level, message);
    return;
  }
  switch (c.backend) {
    case Backend::stderr_only:
      write_all(STDERR_FILENO,
                "urun: " + std::string(level == Level::error ? "" : level_name(level)) +
                    (level == Level::error ? "" : ": ") + std::string(message) + "\n");
      break;
    case Backend::file:
      write_all(c.fd.get(), format_line(level, message));
      break;
    case Backend::syslog:
      ::syslog(level == Level::error     ? LOG_ERR
               : level == Level::warning ? LOG_WARNING
                                         : LOG_DEBUG,
               "%.*s", static_cast<int>(message.size()), message.data());
      break;
    case Backend::journald:
      write_journald(level, message);
      break;
  }
}

}  // namespace urun::log
