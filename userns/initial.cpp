#include "userns/initial.hpp"

#include <string>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/words.hpp"

namespace urun::userns {

bool in_initial_user_namespace() {
  try {
    // Runs on every container's start: split by hand, not by a string stream (common/words.hpp).
    const std::string text = fs::read_file("/proc/self/uid_map");
    const auto words = split_words(text);
    // The initial namespace maps the whole range onto itself in one line.
    return words.size() == 3 && words[0] == "0" && words[1] == "0" && words[2] == "4294967295";
  } catch (const Error&) {
    return true;  // no /proc: assume the conservative user-only permission
  }
}

}  // namespace urun::userns
