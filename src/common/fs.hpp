#pragma once
// Small file helpers used across modules. All fds are O_CLOEXEC.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace urun::fs {

// Whole file; throws Error("read `path`: ...").
std::string read_file(const std::string& path);
// Input the user hands urun (config.json, a --process file): a whole regular file of at most
// max_bytes. A FIFO, device, socket or directory is refused from its stat, before an open that
// could wait for a writer or act on a device; a larger file before it is read. Throws
// Error("read `path`: ..."), with EFBIG when it is too large.
std::string read_regular_file(const std::string& path, size_t max_bytes);
// The same, but a pipe or FIFO is read too (waiting for its writer): for input the caller names
// on the command line (`exec --process <(...)`, /dev/stdin), as crun reads it.
std::string read_regular_file_or_pipe(const std::string& path, size_t max_bytes);
// A whole file of any kind (a pipe or FIFO too: it waits for the writer) of at most max_bytes.
std::string read_file_limited(const std::string& path, size_t max_bytes);
// What fd gives until end of file, refusing more than max_bytes; `what` names it in errors.
std::string read_fd_limited(int fd, const std::string& what, size_t max_bytes);
// Whole file relative to dirfd; std::nullopt when it does not exist.
std::optional<std::string> read_file_at(int dirfd, const std::string& name);
// Writes (truncating) a file; throws Error("write `path`: ...").
void write_file(const std::string& path, std::string_view data, mode_t mode = 0644);
// Writes to an existing file (e.g. /proc or cgroup knobs) without O_CREAT.
void write_existing(const std::string& path, std::string_view data);
// Writes name.tmp in dirfd and renames it over name: readers see old or new, never half.
void write_file_atomic_at(int dirfd, const std::string& name, std::string_view data,
                          mode_t mode = 0600);
// Writes data to an fd completely (retrying on EINTR / short writes); false on error.
bool write_all(int fd, std::string_view data);
// Absolute, symlink-free path; throws Error("resolve `path`: ...").
std::string real_path(const std::string& path);
// mkdir -p with mode for newly made directories; throws on failure.
void mkdir_all(const std::string& path, mode_t mode);
// rm -rf of the entries of dirfd/name and then name itself; never crosses mounts.
void remove_all_at(int dirfd, const std::string& name);

}  // namespace urun::fs
