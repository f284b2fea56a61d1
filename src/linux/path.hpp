#pragma once
// Resolving container paths inside the rootfs without ever leaving it:
// openat2(RESOLVE_IN_ROOT) when the kernel has it, otherwise a component-by-
// component walk that resolves symlinks itself and clamps ".." at the root.
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

// "/proc/self/fd/<fd>"
std::string fd_path(int fd);

// Lexically cleans a container path: collapses "//", "." and resolves ".."
// without going above "/". "a/../../b" -> "/b". Always absolute.
std::string clean_path(std::string_view path);

}  // namespace urun::linux
