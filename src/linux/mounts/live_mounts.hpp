#pragma once
// Mounts added to and removed from a running container (`urun mounts add|remove`, crun 1.22).
// Each mount is first made as a detached tree outside the container (a clone of a bind source,
// or a new filesystem from fsopen) with all its attributes set, then moved onto its destination
// inside the container's mount namespace by fds alone: the caller has joined that namespace, whose
// /proc belongs to another pid namespace, so no "/proc/self/fd" path is ever used here.
#include <string>

#include "common/unique_fd.hpp"
#include "linux/mounts/mounts.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

// What may not be added to a running container: a filesystem tied to the namespaces of whoever
// mounts it (proc, sysfs, mqueue, cgroup, devpts would show the runtime's, not the container's),
// or a destination in /proc other than the files proc_file_may_be_covered allows. Throws
// Error naming `what`.
void check_live_mount(const spec::Mount &m, const MountOptions &opts, const std::string &what);

// The detached tree of a non-bind mount: fsopen(type), its data options as fsconfig keys,
// fsmount. Must run in the user namespace that is to own the new superblock. Throws Error.
UniqueFd make_filesystem_tree(const spec::Mount &m, const MountOptions &opts,
                              const std::string &what);

// Sets the options' mount flags (top mount), r$FLAG attributes (recursive) and propagation on a
// detached tree. Only flags the options name change: a bind keeps the source's other flags.
void set_tree_attributes(int tree_fd, const MountOptions &opts, const std::string &what);

// Moves detached tree `tree_fd` onto `dest` inside root_fd, which is resolved there without
// leaving it (a final symlink is covered itself with dest-nofollow) and created, as a directory
// when the tree's root is one and as an empty file otherwise. The destination may not lead into
// a procfs. Throws Error naming `what`.
void place_tree(int root_fd, int tree_fd, const std::string &dest, bool dest_nofollow,
                const std::string &what);

// Lazily unmounts the top mount on `dest` inside root_fd (a final symlink itself with
// dest-nofollow). Changes the working directory. Throws Error naming `dest` when nothing is
// mounted there.
void unmount_in_root(int root_fd, const std::string &dest, bool dest_nofollow);

}  // namespace urun::linux
