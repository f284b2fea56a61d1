#pragma once
// Resolving container paths inside the rootfs without ever leaving it:
// openat2(RESOLVE_IN_ROOT) when the kernel has it, otherwise a component-by-
// component walk that resolves symlinks itself and clamps ".." at the root.
#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/unique_fd.hpp"

namespace urun::linux {

// Opens `path` (absolute or relative, interpreted inside root_fd) with
// `flags` (O_CLOEXEC is always added). Symlinks are followed as if root_fd
// were "/". Throws Error("open `path` in rootfs: <errno>").
UniqueFd open_in_root(int root_fd, std::string_view path, int flags, mode_t mode = 0);

// Creates every missing directory of `path` inside root_fd (mode `mode`) and
// returns an O_PATH|O_DIRECTORY fd of the last one. Never escapes root_fd.
UniqueFd mkdir_all_in_root(int root_fd, std::string_view path, mode_t mode = 0755);

// Makes sure `path` exists inside root_fd as a directory (is_dir) or an empty
// regular file, creating parents; returns an O_PATH fd of it. A mount target
// is then "/proc/self/fd/<fd>", never a re-resolved string.
UniqueFd ensure_in_root(int root_fd, std::string_view path, bool is_dir, mode_t mode = 0755);

// Where `path` lands inside root_fd once every symlink on the way is resolved
// with the rules of open_in_root: the directory holding the final entry and
// the entry's name ("" only when the path resolves to root_fd itself). The
// entry may not exist yet. create_parents makes missing directories on the way
// (mode 0755); follow_last=false leaves a final symlink unresolved
// (copy-symlink needs to see it). Mount code needs the pair: after a mount on
// fd_path(fd) the fd still names the covered directory, while openat(dir, name)
// reaches the new mount on top of it. Always walks component by component (no
// openat2).
struct InRootEntry {
  UniqueFd dir;  // O_PATH directory fd inside root_fd
  std::string name;
  // The final entry as the walk found it (O_PATH | O_NOFOLLOW, and its stat), when it exists
  // and was not entered as a directory: saves the caller opening it again.
  UniqueFd entry;
  struct stat entry_stat {};
};
InRootEntry resolve_in_root(int root_fd, std::string_view path, bool create_parents,
                            bool follow_last = true);

// Tests only: false forces the fallback walk used on kernels without openat2.
void use_openat2_for_testing(bool enabled);

// "/proc/self/fd/<fd>"
std::string fd_path(int fd);

// Lexically cleans a container path: collapses "//", "." and resolves ".."
// without going above "/". "a/../../b" -> "/b". Always absolute.
std::string clean_path(std::string_view path);

}  // namespace urun::linux
