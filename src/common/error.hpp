#pragma once
// urun::Error: the one exception type of the core. It carries the errno of the
// failure (0 when there is none) and a message of the form "verb `object`: reason".
// Callers add context while unwinding with prepend(). An error that a bad rootless set-up
// causes (no subordinate ids, newuidmap refused, no XDG_RUNTIME_DIR, user namespaces
// refused, no delegated cgroup) is marked with Hint::rootless_setup where it is thrown; the
// top level (main.cpp) then ends the message with hint_text(): the advice lives in one place.
#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace urun {

enum class Hint : unsigned char { none, rootless_setup };

class Error : public std::exception {
 public:
  explicit Error(std::string message, int err = 0) : message_(std::move(message)), errno_(err) {}

  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& message() const noexcept { return message_; }
  int code() const noexcept { return errno_; }
  Hint hint() const noexcept { return hint_; }
  Error& set_hint(Hint hint) noexcept {
    hint_ = hint;
    return *this;
  }

  // "create `foo`" + ": " + message
  Error& prepend(std::string_view context) {
    message_.insert(0, std::string(context) + ": ");
    return *this;
  }

 private:
  std::string message_;
  int errno_;
  Hint hint_ = Hint::none;
};

// What the top level appends to an error's message for its hint: "" for Hint::none, else
// " (run 'urun check' to diagnose the rootless set-up)".
std::string_view hint_text(Hint hint);

// Runs op; an Error it throws leaves marked with `hint` (any hint it had is kept). For a
// step whose every failure is a set-up problem, so sites need no try blocks of their own.
template <typename F>
auto with_hint(Hint hint, F&& op) {
  try {
    return op();
  } catch (Error& e) {
    if (e.hint() == Hint::none) e.set_hint(hint);
    throw;
  }
}

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
