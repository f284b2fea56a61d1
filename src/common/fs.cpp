#include "common/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>  // renameat2
#include <cstdlib>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace urun::fs {
namespace {

std::string read_fd(int fd, const std::string& what) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read " + quote(what));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "a special file";
}

[[noreturn]] void not_regular(const std::string& path, mode_t mode) {
  throw Error("read " + quote(path) + ": is " + file_kind(mode) + ", not a regular file",
              S_ISDIR(mode) ? EISDIR : EINVAL);
}

std::string size_text(size_t bytes) {
  if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

[[noreturn]] void too_large(const std::string& what, size_t max_bytes, off_t size = -1) {
  std::string msg = "read " + quote(what) + ": too large";
  if (size >= 0) msg += " (" + std::to_string(size) + " bytes)";
  throw Error(msg + ": the limit is " + size_text(max_bytes), EFBIG);
}

// size_hint: the expected size (a regular file's), so that one read usually does.
std::string read_fd_bounded(int fd, const std::string& what, size_t max_bytes, size_t size_hint) {
  std::string out;
  // One byte more than expected: the read that returns 0 then needs no second buffer.
  out.resize(std::min(std::max<size_t>(size_hint, 4096), max_bytes) + 1);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (used > max_bytes) too_large(what, max_bytes);
      out.resize(std::min(out.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read " + quote(what));
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  out.resize(used);
  return out;
}

}  // namespace

std::string read_regular_file(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) throw_errno("read " + quote(path));
  if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
  if (static_cast<uint64_t>(st.st_size) > max_bytes) too_large(path, max_bytes, st.st_size);
  // Should the path have been replaced since the stat, the open of what replaced it neither waits
  // for a FIFO's writer nor makes a terminal ours, and the fstat refuses it.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) throw_errno("read " + quote(path));
  if (::fstat(fd.get(), &st) < 0) throw_errno("read " + quote(path));
  if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
  if (static_cast<uint64_t>(st.st_size) > max_bytes) too_large(path, max_bytes, st.st_size);
  // A regular file on a FUSE or network filesystem may take O_NONBLOCK at its word.
  if (::fcntl(fd.get(), F_SETFL, 0) < 0) throw_errno("read " + quote(path));
  return read_fd_bounded(fd.get(), path, max_bytes, static_cast<size_t>(st.st_size));
}

std::string read_regular_file_or_pipe(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode))
    return read_file_limited(path, max_bytes);
  return read_regular_file(path, max_bytes);
}

std::string read_file_limited(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) throw_errno("read " + quote(path));
  return read_fd_bounded(fd.get(), path, max_bytes, 0);
}

std::string read_fd_limited(int fd, const std::string& what, size_t max_bytes) {
  return read_fd_bounded(fd, what, max_bytes, 0);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("read " + quote(path));
  return read_fd(fd.get(), path);
}

std::optional<std::string> read_file_at(int dirfd, const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("read " + quote(name));
  }
  return read_fd(fd.get(), name);
}

void write_file(const std::string& path, std::string_view data, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd || !write_all(fd.get(), data)) throw_errno("write " + quote(path));
}

void write_existing(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || !write_all(fd.get(), data)) throw_errno("write " + quote(path));
}

void write_file_atomic_at(int dirfd, const std::string& name, std::string_view data, mode_t mode) {
  std::string tmp = name + ".tmp";
  UniqueFd fd(
      ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd || !write_all(fd.get(), data)) throw_errno("write " + quote(tmp));
  fd.reset();
  // Swapping the two names and unlinking the old file replaces it just as
  // atomically, but a rename over an existing file makes ext4 (auto_da_alloc)
  // flush the new data first: about 1 ms per state write where /run is not a
  // tmpfs, against 0.1 ms for the swap. A crash in between leaves the old
  // content in the temp file, which the next write truncates.
  if (::renameat2(dirfd, tmp.c_str(), dirfd, name.c_str(), RENAME_EXCHANGE) == 0) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return;
  }
  // ENOENT: no file to replace yet; EINVAL: no RENAME_EXCHANGE on this filesystem.
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0)
    throw_errno("rename " + quote(tmp) + " to " + quote(name));
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) throw_errno("resolve " + quote(path));
  return buf;
}

void mkdir_all(const std::string& path, mode_t mode) {
  if (path.empty()) return;
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST) throw_errno("mkdir " + quote(cur));
  }
}

void remove_all_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) throw_errno("remove " + quote(name));
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw_errno("open " + quote(name));
  struct stat parent_st {
  }, st{};
  if (::fstatat(dirfd, "", &parent_st, AT_EMPTY_PATH) == 0 && ::fstat(fd.get(), &st) == 0 &&
      parent_st.st_dev != st.st_dev)
    throw Error("remove " + quote(name) + ": is a mount point");
  DIR* dir = ::fdopendir(::dup(fd.get()));
  if (!dir) throw_errno("open " + quote(name));
  for (dirent* e; (e = ::readdir(dir));) {
    std::string entry = e->d_name;
    if (entry == "." || entry == "..") continue;
    try {
      remove_all_at(fd.get(), entry);
    } catch (...) {
      ::closedir(dir);
      throw;
    }
  }
  ::closedir(dir);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
    throw_errno("remove " + quote(name));
}

}  // namespace urun::fs
