#pragma once
// The `tmpcopyup` mount option (crun): a tmpfs mounted over a directory of the image starts with
// a copy of what it covers. Files, directories, symlinks and (where permitted) device nodes are
// copied with their owner and mode; ownership the container's user namespace cannot represent is
// left as is, and device nodes it may not create are skipped.
namespace urun::linux {

// Copies the tree under from_dir into to_dir (both directory fds), never following symlinks.
// Throws Error naming the entry that failed; refuses trees deeper than 256 levels (ELOOP).
void copy_tree(int from_dir, int to_dir, int depth = 0);

}  // namespace urun::linux
