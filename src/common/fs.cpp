#include "common/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
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

}  // namespace

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
  UniqueFd fd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                       mode));
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
  struct stat parent_st {}, st{};
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
