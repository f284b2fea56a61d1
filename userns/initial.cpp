#include "userns/initial.hpp"

#include <sstream>
#include <string>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace urun::userns {

bool in_initial_user_namespace() {
  try {
    std::istringstream map(fs::read_file("/proc/self/uid_map"));
    std::string inside, outside, count, extra;
    map >> inside >> outside >> count;
    // The initial namespace maps the whole range onto itself in one line.
    return inside == "0" && outside == "0" && count == "4294967295" && !(map >> extra);
  } catch (const Error&) {
    return true;  // no /proc: assume the conservative user-only permission
  }
}

}  // namespace urun::userns
