#pragma once
// urun::Error: the one exception type of the core. It carries the errno of the
// failure (0 when there is none) and a message of the form "verb `object`: reason".
// Callers add context while unwinding with prepend().
#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace urun {

class Error : public std::exception {
 public:
  explicit Error(std::string message, int err = 0) : message_(std::move(message)), errno_(err) {}

  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& message() const noexcept { return message_; }
  int code() const noexcept { return errno_; }

  // "create `foo`" + ": " + message
  Error& prepend(std::string_view context) {
    message_.insert(0, std::string(context) + ": ");
    return *this;
  }

 private:
  std::string message_;
  int errno_;
};

// Throws Error("<what>: <strerror(errno)>") with the current errno.
[[noreturn]] void throw_errno(std::string_view what);
// Throws Error("<what>: <strerror(err)>") with the given errno.
[[noreturn]] void throw_errno(std::string_view what, int err);

// Wraps a path or name in backticks for messages: quote("/proc") == "`/proc`".
inline std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('`');
  out.append(s);
  out.push_back('`');
  return out;
}

}  // namespace urun
