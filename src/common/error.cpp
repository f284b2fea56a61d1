#include "common/error.hpp"

#include <cstring>

namespace urun {

void throw_errno(std::string_view what, int err) {
  throw Error(std::string(what) + ": " + std::strerror(err), err);
}

void throw_errno(std::string_view what) { throw_errno(what, errno); }

std::string_view hint_text(Hint hint) {
  switch (hint) {
    case Hint::none:
      return "";
    case Hint::rootless_setup:
      return " (run 'urun check' to diagnose the rootless set-up)";
  }
  return "";
}

}  // namespace urun
