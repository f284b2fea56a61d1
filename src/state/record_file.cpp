// Reading one record file so that whatever is found in its place (a crash's
// leftovers, a stray tool's work) becomes a clear LoadedRecord::broken and
// never a hang, a followed symlink or an exception that stops `list`.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "state/store.hpp"

namespace urun::state {
namespace {

// Records are a few KiB; a bigger file is not one of ours (and reading a
// huge sparse file would take long).
constexpr off_t kMaxRecordSize = 4 << 20;

const char* file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "a directory";
    case S_IFLNK:
      return "a symbolic link";
    case S_IFIFO:
      return "a fifo";
    case S_IFSOCK:
      return "a socket";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    default:
      return "not a regular file";
  }
}

LoadedRecord broken(LoadedRecord out, const std::string& problem) {
  out.kind = LoadedRecord::Kind::broken;
  out.problem = quote(out.file) + " " + problem;
  return out;
}

}  // namespace

std::optional<std::string> read_record_text(int dir_fd, const char* name, std::string* problem) {
  problem->clear();
  // O_NONBLOCK: opening a fifo for reading would wait for a writer.
  // O_NOFOLLOW: a symlink could point at another container's record.
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat st {};
  if (!fd) {
    int err = errno;
    if (err == ENOENT) return std::nullopt;  // absent
    // ELOOP (a symlink), ENXIO (a socket), EACCES...: say what is there.
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
      *problem = std::string("is ") + file_kind(st.st_mode) + ", not a file";
    else
      *problem = std::string("cannot be opened: ") + std::strerror(err);
    return std::nullopt;
  }
  if (::fstat(fd.get(), &st) < 0) {
    *problem = std::string("cannot be examined: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *problem = std::string("is ") + file_kind(st.st_mode) + ", not a file";
    return std::nullopt;
  }
  if (st.st_size > kMaxRecordSize) {
    *problem = "is too large for a record (" + std::to_string(st.st_size) + " bytes)";
    return std::nullopt;
  }
  std::string text(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t len = 0;
  while (true) {
    if (len == text.size()) {
      // Grew since fstat: read on, up to the limit.
      if (text.size() > static_cast<size_t>(kMaxRecordSize)) {
        *problem = "is too large for a record";
        return std::nullopt;
      }
      text.resize(text.size() * 2);
    }
    ssize_t n = ::read(fd.get(), text.data() + len, text.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      *problem = std::string("cannot be read: ") + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  text.resize(len);
  return text;
}

LoadedRecord load_record_file(int dir_fd, const char* name, std::string_view id,
                              const std::string& dir_path) {
  LoadedRecord out;
  out.file = dir_path + "/" + name;
  std::string problem;
  std::optional<std::string> text = read_record_text(dir_fd, name, &problem);
  if (!text) return problem.empty() ? out : broken(std::move(out), problem);
  try {
    out.record = parse_record(*text, id, out.file);
  } catch (const Error& e) {
    out.kind = LoadedRecord::Kind::broken;
    out.problem = e.message();
    return out;
  }
  out.kind = LoadedRecord::Kind::ok;
  return out;
}

}  // namespace urun::state
