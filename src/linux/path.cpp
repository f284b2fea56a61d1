#include "linux/path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <deque>
#include <vector>

#include "common/error.hpp"

namespace urun::linux {
namespace {

// Same bound as the kernel's MAXSYMLINKS: a loop of links ends in ELOOP.
constexpr int kMaxSymlinks = 40;

// Cleared once the kernel answers ENOSYS, so later calls go straight to the
// walk.
bool g_openat2 = true;

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// openat2 wants a path relative to the root fd; "" is not accepted.
std::string relative(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path.empty() ? std::string(".") : std::string(path);
}

// Returns the fd, or -1 with errno set. ENOSYS disables openat2 for the
// process.
int try_openat2(int root_fd, std::string_view path, int flags, mode_t mode) {
  if (!g_openat2) {
    errno = ENOSYS;
    return -1;
  }
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  // The kernel rejects a mode without O_CREAT/O_TMPFILE.
  if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) how.mode = mode;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = relative(path);
  for (int attempt = 0; attempt < 32; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a rename elsewhere raced with RESOLVE_IN_ROOT's ".." check;
    // retrying is safe.
    if (errno == EAGAIN || errno == EINTR) continue;
    if (errno == ENOSYS) g_openat2 = false;
    return -1;
  }
  return -1;
}

UniqueFd dup_fd(int fd, std::string_view what) {
  UniqueFd out(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!out) throw_errno("duplicate fd of " + quote(what));
  return out;
}

std::string read_link(int link_fd, std::string_view what) {
  std::string buf(PATH_MAX, '\0');
  ssize_t n = ::readlinkat(link_fd, "", buf.data(), buf.size());
  if (n < 0) throw_errno("readlink " + quote(what));
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace

void use_openat2_for_testing(bool enabled) { g_openat2 = enabled; }

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string clean_path(std::string_view path) {
  std::vector<std::string> out;
  for (auto &part : split_components(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(part));
  }
  std::string result;
  for (const auto &part : out) result += "/" + part;
  return result.empty() ? "/" : result;
}

InRootEntry resolve_in_root(int root_fd, std::string_view path, bool create_parents,
                            bool follow_last) {
  const std::string what = std::string(path);
  auto fail = [&](int err) { throw_errno("resolve " + quote(what) + " in rootfs", err); };

  // The directories entered so far below root_fd, with the name each had in
  // its parent. ".." pops this stack instead of asking the kernel, so it can
  // never climb above root_fd whatever mounts or renames happen meanwhile.
  struct Dir {
    UniqueFd fd;
    std::string name;
  };
  std::vector<Dir> stack;
  auto top = [&] { return stack.empty() ? root_fd : stack.back().fd.get(); };

  auto parts = split_components(path);
  std::deque<std::string> todo(parts.begin(), parts.end());
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    const bool last = todo.empty();
    // O_NOFOLLOW on every step: the kernel never follows a link for us, we
    // read it and resolve it against root_fd ourselves.
    UniqueFd fd(::openat(top(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      if (errno != ENOENT) fail(errno);
      if (last) return {dup_fd(top(), what), part};
      if (!create_parents) fail(ENOENT);
      if (::mkdirat(top(), part.c_str(), 0755) < 0 && errno != EEXIST) {
        throw_errno("mkdir " + quote(part) + " of " + quote(what) + " in rootfs");
      }
      // Look again: what is there now may be a directory or (after EEXIST) a
      // link.
      todo.push_front(std::move(part));
      continue;
    }
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) fail(errno);
    // The final entry, with the directory holding it: taken from the stack, which ends here.
    auto found = [&]() -> InRootEntry {
      InRootEntry out{stack.empty() ? dup_fd(root_fd, what) : std::move(stack.back().fd),
                      std::move(part), std::move(fd), st};
      return out;
    };
    if (S_ISLNK(st.st_mode)) {
      if (last && !follow_last) return found();
      if (++links > kMaxSymlinks) fail(ELOOP);
      std::string target = read_link(fd.get(), part);
      if (target.empty()) fail(ENOENT);
      // An absolute target restarts at the rootfs, never at the host's "/".
      if (target.front() == '/') stack.clear();
      auto target_parts = split_components(target);
      todo.insert(todo.begin(), target_parts.begin(), target_parts.end());
      continue;
    }
    if (last) return found();
    if (!S_ISDIR(st.st_mode)) fail(ENOTDIR);
    stack.push_back({std::move(fd), std::move(part)});
  }
  // The path ended on a directory we entered ("a/b/.", a link to a directory
  // that was consumed, or root itself): name it by its parent and its name.
  if (stack.empty()) return {dup_fd(root_fd, what), ""};
  Dir last = std::move(stack.back());
  stack.pop_back();
  return {dup_fd(top(), what), std::move(last.name)};
}

UniqueFd open_in_root(int root_fd, std::string_view path, int flags, mode_t mode) {
  const std::string what = "open " + quote(path) + " in rootfs";
  int fd = try_openat2(root_fd, path, flags, mode);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOSYS) throw_errno(what);

  // No openat2: walk it ourselves, then open the final entry with O_NOFOLLOW
  // so a link swapped in meanwhile fails instead of being followed.
  InRootEntry entry;
  try {
    entry = resolve_in_root(root_fd, path, false, !(flags & O_NOFOLLOW));
  } catch (const Error &e) {
    throw_errno(what, e.code());
  }
  UniqueFd out;
  if (entry.name.empty()) {
    out.reset(::openat(entry.dir.get(), ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC, mode));
  } else {
    out.reset(::openat(entry.dir.get(), entry.name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode));
  }
  if (!out) throw_errno(what);
  return out;
}

UniqueFd mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode) {
  int fd = try_openat2(root_fd, path, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT && errno != ENOSYS) throw_errno("mkdir " + quote(path) + " in rootfs");

  InRootEntry entry = resolve_in_root(root_fd, path, true, true);
  if (entry.name.empty()) return std::move(entry.dir);
  if (::mkdirat(entry.dir.get(), entry.name.c_str(), mode) < 0 && errno != EEXIST) {
    throw_errno("mkdir " + quote(path) + " in rootfs");
  }
  UniqueFd out(
      ::openat(entry.dir.get(), entry.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!out) throw_errno("mkdir " + quote(path) + " in rootfs");
  return out;
}

UniqueFd ensure_in_root(int root_fd, std::string_view path, bool is_dir, mode_t mode) {
  if (is_dir) return mkdir_all_in_root(root_fd, path, mode);
  int fd = try_openat2(root_fd, path, O_PATH, 0);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOENT && errno != ENOSYS) throw_errno("open " + quote(path) + " in rootfs");

  InRootEntry entry = resolve_in_root(root_fd, path, true, true);
  if (entry.name.empty()) return std::move(entry.dir);
  // A file is never made executable: `mode` is the directories' mode.
  UniqueFd made(::openat(entry.dir.get(), entry.name.c_str(),
                         O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode & 0666));
  if (!made && errno != EEXIST) throw_errno("create " + quote(path) + " in rootfs");
  UniqueFd out(::openat(entry.dir.get(), entry.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!out) throw_errno("open " + quote(path) + " in rootfs");
  return out;
}

}  // namespace urun::linux
