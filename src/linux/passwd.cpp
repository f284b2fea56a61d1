#include "linux/passwd.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace urun::linux {
namespace {

// name:password:uid:gid:gecos:home[:shell]; the uid a plain decimal number.
std::optional<std::string> home_of_entry(std::string_view line, uid_t uid) {
  std::string_view fields[6];
  for (int i = 0; i < 6; ++i) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (i < 5) return std::nullopt;  // too few fields
      fields[i] = line;
      break;
    }
    fields[i] = line.substr(0, colon);
    line.remove_prefix(colon + 1);
  }
  std::string_view id = fields[2];
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  if (id.empty() || ec != std::errc() || end != id.data() + id.size() || value != uid)
    return std::nullopt;
  return std::string(fields[5]);
}

// /etc/passwd for reading, or an empty fd. RESOLVE_NO_MAGICLINKS: the root is
// the container's, so only a /proc magic link could lead out of it. O_NONBLOCK
// and O_NOCTTY: opening a FIFO must not wait for a writer, nor a terminal
// become ours; what is not a regular file is refused after fstat.
UniqueFd open_passwd() {
  constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  open_how how{};
  how.flags = kFlags;
  how.resolve = RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &how, sizeof how);
  // No openat2 (before Linux 5.6, or denied by a seccomp filter urun runs
  // under): a plain open, as crun and runc do.
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) fd = ::open("/etc/passwd", kFlags);
  return UniqueFd(static_cast<int>(fd));
}

}  // namespace

std::optional<std::string> home_in_passwd(std::string_view text, uid_t uid) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (auto home = home_of_entry(line, uid)) return home;
  }
  return std::nullopt;
}

std::optional<std::string> container_home(uid_t uid) {
  UniqueFd fd = open_passwd();
  if (!fd) {
    if (errno != ENOENT) log::debug(std::string("open /etc/passwd: ") + std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
    log::debug("/etc/passwd is not a regular file: HOME is not looked up");
    return std::nullopt;
  }
  std::string text;
  text.resize(std::min<size_t>(static_cast<size_t>(st.st_size) + 1, kMaxPasswdBytes));
  size_t used = 0;
  while (used < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<size_t>(n);
    // A short read once fstat's size is in: the end, without one more read to see it.
    if (used >= static_cast<size_t>(st.st_size) && used < text.size()) break;
    // The size fstat gave may be stale (or 0, for some filesystems): grow up to the bound.
    if (used == text.size() && text.size() < kMaxPasswdBytes)
      text.resize(std::min(std::max<size_t>(text.size() * 2, 4096), kMaxPasswdBytes));
  }
  text.resize(used);
  // Cut at the bound: the last line may be a truncated entry.
  if (used == kMaxPasswdBytes) text.resize(text.rfind('\n') + 1);
  return home_in_passwd(text, uid);
}

}  // namespace urun::linux
