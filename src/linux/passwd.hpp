#pragma once
// The process user's home directory from the container's /etc/passwd, for a
// HOME the config does not set (as crun and runc do). The file is the image's:
// hostile input, read with care.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace urun::linux {

// The home field of the first well-formed entry of `text` (passwd(5) format)
// whose uid is `uid`; nullopt when there is none.
std::optional<std::string> home_in_passwd(std::string_view text, uid_t uid);

// home_in_passwd() of /etc/passwd as the calling process sees it: call it once
// the process's root is the container's. Not following /proc magic links, a
// regular file only (a FIFO would block, a device could be read without end),
// at most its first kMaxPasswdBytes. nullopt when absent, unreadable or
// without an entry: a missing HOME is not an error.
std::optional<std::string> container_home(uid_t uid);

constexpr size_t kMaxPasswdBytes = 4 << 20;

}  // namespace urun::linux
