#pragma once
// urun's own messages (not the container's output). Destination and format
// come from the global --log, --log-format, --log-level and --debug options.
// Without --log, messages go to stderr as "urun: <level>: <message>".
#include <string>
#include <string_view>

namespace urun::log {

enum class Level { error = 0, warning = 1, debug = 2 };
enum class Format { text, json };

// Parses "error" | "warning" | "debug" (also "warn", "info" -> warning); throws Error otherwise.
Level parse_level(std::string_view name);
// Parses "text" | "json"; throws Error otherwise.
Format parse_format(std::string_view name);

// destination: "" (stderr), "file:PATH", "PATH", "journald:IDENT" or "syslog:IDENT".
// Throws Error when the destination is malformed or cannot be opened.
void configure(std::string_view destination, Format format, Level level);

bool enabled(Level level);
void write(Level level, std::string_view message);
inline void error(std::string_view m) { write(Level::error, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void debug(std::string_view m) { write(Level::debug, m); }

// True when a --log destination other than stderr is configured.
bool has_destination();

// In the container's init, after clone, messages cannot reach the log file
// (it may lie outside the new root): a sink forwards them to the parent.
using Sink = void (*)(Level level, std::string_view message);
void set_sink(Sink sink);

}  // namespace urun::log
