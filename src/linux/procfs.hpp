#pragma once
// /proc written only through a handle verified to be procfs. What is mounted at a container's
// /proc, and below it, is the config's choice (a tmpfs, a volume over /proc/sys/net...); a write
// by path would then go wherever that mount leads, into a host file for instance. A ProcFs is
// the root of a procfs mount, checked with fstatfs, and every file is opened below it without
// crossing a mount or following a symlink, so nothing mounted over a subpath redirects it.
#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/unique_fd.hpp"

namespace urun::linux {

// What fstatfs/fstat say about an fd: on procfs at all, and the root inode of a procfs (the
// directory a proc mount shows at its top, not a bind of a subdirectory of one).
struct ProcfsKind {
  bool procfs = false;
  bool root = false;
};
// Throws Error naming `what` when fstatfs/fstat fail.
ProcfsKind procfs_kind(int fd, std::string_view what);

class ProcFs {
 public:
  // Opens `path` (an absolute path as the caller sees it) and checks that it is the root of a
  // procfs mount. Throws Error("... `/proc` is not the root of a procfs mount") otherwise.
  static ProcFs open(const char* path = "/proc");

  // Opens /proc/<rel> ("sys/net/ipv4/ip_forward", "self/oom_score_adj") with `flags`
  // (O_CLOEXEC and O_NOFOLLOW added). The lookup stays on this mount (a mount over any part of
  // the path fails it with EXDEV) and follows no symlink, except the kernel's own
  // /proc/self and /proc/thread-self as the first component. Throws Error naming the file.
  UniqueFd open_file(std::string_view rel, int flags) const;

  // open_file(rel, O_WRONLY) and a write of all of `data`. Throws Error("<what>: <reason>").
  void write_file(std::string_view rel, std::string_view data, const std::string& what) const;

  int fd() const { return root_.get(); }

 private:
  ProcFs(UniqueFd root, dev_t dev) : root_(std::move(root)), dev_(dev) {}
  UniqueFd open_walking(std::string_view rel, int flags) const;

  UniqueFd root_;  // O_PATH of the procfs root
  dev_t dev_;      // its st_dev: the fallback walk without openat2 stays on it
};

// Tests only: false makes open_file take the walk used on kernels without openat2.
void procfs_use_openat2_for_testing(bool enabled);

}  // namespace urun::linux
