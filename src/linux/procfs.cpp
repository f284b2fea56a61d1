#include "linux/procfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <deque>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace urun::linux {
namespace {

// PROC_ROOT_INO (include/linux/proc_ns.h): only the root of a procfs has it.
constexpr ino_t kProcRootIno = 1;

// Cleared once the kernel answers ENOSYS (before Linux 5.6).
bool g_openat2 = true;

std::string display(std::string_view rel) { return "/proc/" + std::string(rel); }

// /proc/self -> "<pid>" and /proc/thread-self -> "<pid>/task/<tid>": links the kernel makes,
// relative and on the same mount, which every path of the process's own files goes through.
bool starts_at_self(std::string_view rel) {
  for (std::string_view link : {"self", "thread-self"})
    if (rel.starts_with(link) && (rel.size() == link.size() || rel[link.size()] == '/'))
      return true;
  return false;
}

std::deque<std::string> components(std::string_view path) {
  std::deque<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

[[noreturn]] void crossed_mount(const std::string& what) {
  throw Error(what + ": a mount covers part of the path (not this procfs)", EXDEV);
}

}  // namespace

void procfs_use_openat2_for_testing(bool enabled) { g_openat2 = enabled; }

ProcfsKind procfs_kind(int fd, std::string_view what) {
  struct statfs sfs {};
  if (::fstatfs(fd, &sfs) < 0) throw_errno("statfs " + std::string(what));
  ProcfsKind kind;
  kind.procfs = sfs.f_type == PROC_SUPER_MAGIC;
  if (!kind.procfs) return kind;
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw_errno("stat " + std::string(what));
  kind.root = st.st_ino == kProcRootIno && S_ISDIR(st.st_mode);
  return kind;
}

ProcFs ProcFs::open(const char* path) {
  // O_NOFOLLOW with O_DIRECTORY: a symlink at `path` fails instead of being followed.
  UniqueFd fd(::open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw_errno("open " + quote(path));
  struct statfs sfs {};
  struct stat st {};
  if (::fstatfs(fd.get(), &sfs) < 0 || ::fstat(fd.get(), &st) < 0)
    throw_errno("stat " + quote(path));
  if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != kProcRootIno)
    throw Error(quote(path) + " is not the root of a procfs mount", EINVAL);
  return ProcFs(std::move(fd), st.st_dev);
}

UniqueFd ProcFs::open_file(std::string_view rel, int flags) const {
  if (!g_openat2) return open_walking(rel, flags);
  const std::string what = "open " + quote(display(rel));
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  if (!starts_at_self(rel)) how.resolve |= RESOLVE_NO_SYMLINKS;
  const std::string path(rel);
  for (int attempt = 0; attempt < 16; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_.get(), path.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a concurrent rename raced the lookup; retrying is safe.
    if (errno == EAGAIN || errno == EINTR) continue;
    if (errno == EXDEV) crossed_mount(what);
    if (errno != ENOSYS) throw_errno(what);
    g_openat2 = false;
    return open_walking(rel, flags);
  }
  throw_errno(what);
}

// Without openat2: component by component with O_NOFOLLOW, each on the procfs's own device.
// A mount of another filesystem (a tmpfs, a volume, another procfs instance) over part of the
// path shows as a different st_dev; a bind of this procfs's own files onto itself would not,
// which only openat2's RESOLVE_NO_XDEV sees. The mount rules (linux/mounts/mounts.cpp) keep the
// config from making one.
UniqueFd ProcFs::open_walking(std::string_view rel, int flags) const {
  const std::string what = "open " + quote(display(rel));
  std::deque<std::string> todo = components(rel);
  UniqueFd dir;  // empty: the root
  bool first = true;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part.empty() || part == "." || part == "..")
      throw Error(what + ": not a plain path below /proc", EINVAL);
    const int at = dir ? dir.get() : root_.get();
    // O_PATH first: what is checked is never opened for real (a fifo bound there would block).
    UniqueFd fd(::openat(at, part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_errno(what);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) throw_errno(what);
    if (S_ISLNK(st.st_mode)) {
      if (!first || (part != "self" && part != "thread-self"))
        throw Error(what + ": a symlink on the path", ELOOP);
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(fd.get(), "", target.data(), target.size());
      if (n <= 0) throw_errno(what);
      target.resize(static_cast<size_t>(n));
      if (target.front() == '/') throw Error(what + ": unexpected /proc/" + part, ELOOP);
      auto parts = components(target);
      todo.insert(todo.begin(), parts.begin(), parts.end());
      first = false;
      continue;
    }
    if (st.st_dev != dev_) crossed_mount(what);
    if (todo.empty()) {
      if (!S_ISREG(st.st_mode)) throw Error(what + ": not a procfs file", EINVAL);
      UniqueFd file(::openat(at, part.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
      struct stat again {};
      if (!file || ::fstat(file.get(), &again) < 0) throw_errno(what);
      if (again.st_dev != st.st_dev || again.st_ino != st.st_ino) crossed_mount(what);
      return file;
    }
    dir = std::move(fd);
    first = false;
  }
  throw Error(what + ": not a plain path below /proc", EINVAL);
}

void ProcFs::write_file(std::string_view rel, std::string_view data,
                        const std::string& what) const {
  UniqueFd fd;
  try {
    fd = open_file(rel, O_WRONLY);
  } catch (Error& e) {
    throw e.prepend(what);
  }
  if (!fs::write_all(fd.get(), data)) throw_errno(what);
}

}  // namespace urun::linux
