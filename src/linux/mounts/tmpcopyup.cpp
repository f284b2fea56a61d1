// tmpcopyup: the covered directory's contents copied into the tmpfs mounted over it.
#include "linux/mounts/tmpcopyup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace urun::linux {
namespace {

void copy_file_contents(int from, int to, const std::string &name) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("tmpcopyup: read " + quote(name));
    }
    if (n == 0) return;
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        throw_errno("tmpcopyup: write " + quote(name));
      }
      off += w;
    }
  }
}

// Ownership the container's user namespace cannot represent is left as is.
void copy_owner_and_mode(int dir, const char *name, const struct stat &st, bool is_link) {
  if (::fchownat(dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
      errno != EINVAL) {
    throw_errno(std::string("tmpcopyup: chown ") + quote(name));
  }
  // chown clears set-id bits, so the mode goes last.
  if (!is_link && ::fchmodat(dir, name, st.st_mode & 07777, 0) < 0) {
    throw_errno(std::string("tmpcopyup: chmod ") + quote(name));
  }
}

}  // namespace

void copy_tree(int from_dir, int to_dir, int depth) {
  if (depth > 256) throw Error("tmpcopyup: directory tree too deep", ELOOP);
  UniqueFd listing(::openat(from_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!listing) throw_errno("tmpcopyup: open directory");
  DIR *d = ::fdopendir(listing.get());
  if (d == nullptr) throw_errno("tmpcopyup: read directory");
  listing.release();  // owned by d now
  struct Closer {
    DIR *d;
    ~Closer() { ::closedir(d); }
  } closer{d};
  while (struct dirent *ent = ::readdir(d)) {
    const char *name = ent->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    struct stat st;
    if (::fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      throw_errno(std::string("tmpcopyup: stat ") + quote(name));
    }
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to_dir, name, 0700) < 0)
        throw_errno(std::string("tmpcopyup: mkdir ") + quote(name));
      UniqueFd from(::openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd to(::openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from || !to) throw_errno(std::string("tmpcopyup: open ") + quote(name));
      copy_tree(from.get(), to.get(), depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd from(::openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd to(
          ::openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!from || !to) throw_errno(std::string("tmpcopyup: open ") + quote(name));
      copy_file_contents(from.get(), to.get(), name);
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(from_dir, name, target.data(), target.size());
      if (n < 0) throw_errno(std::string("tmpcopyup: readlink ") + quote(name));
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), to_dir, name) < 0) {
        throw_errno(std::string("tmpcopyup: symlink ") + quote(name));
      }
    } else {
      // Devices need privileges a user namespace lacks; skip them rather than
      // fail.
      if (::mknodat(to_dir, name, st.st_mode, st.st_rdev) < 0) {
        if (errno == EPERM) continue;
        throw_errno(std::string("tmpcopyup: mknod ") + quote(name));
      }
    }
    copy_owner_and_mode(to_dir, name, st, S_ISLNK(st.st_mode));
  }
}

}  // namespace urun::linux
