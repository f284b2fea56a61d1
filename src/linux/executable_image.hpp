#pragma once
// Swapping the file a running process executes, without an exec.
//
// The binary protection (runtime/sealed_binary.hpp) needs urun's processes to run from a file no
// container can write. An exec from such a file costs a whole second process start (the loader,
// the libraries, the static initialisers, the page faults: about a tenth of the CPU a root
// container's start and teardown take). Moving the running image instead costs a few system calls:
// each mapping of our binary is replaced by the same bytes mapped from the other file, and the
// mm's executable (/proc/<pid>/exe, what a container process could open) is pointed at it. The
// kernel refuses the second step while any mapping still comes from the old file, so the first
// step must cover every one of them. CRIU restores processes' executables the same way.
namespace urun::linux {

// Makes `file` (an fd open for reading on the very file this process executes, seen through
// another mount: same device and inode) this process's executable. Call it while the process has
// one thread. Returns false with errno set when the kernel refuses (PR_SET_MM_MAP needs
// CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in our user namespace and a kernel with checkpoint/
// restore); mappings moved before a failure stay moved, with the same contents, so the caller
// can still fall back to an exec.
bool adopt_executable(int file) noexcept;

}  // namespace urun::linux
