#include "common/error.hpp"

#include <cstring>

namespace urun {

void throw_errno(std::string_view what, int err) {
  throw Error(std::string(what) + ": " + std::strerror(err), err);
}

void throw_errno(std::string_view what) { throw_errno(what, errno); }

}  // namespace urun
