#pragma once
// CVE-2019-5736: until they execve, the container's init and exec'd processes run the urun
// binary inside the container, and a container can even make urun exec its own binary as the
// container's program (args or a script interpreter `/proc/self/exe`). A container process
// that opens /proc/<pid>/exe of such a process gets the host's binary, and overwrites it as
// soon as it is no longer busy whenever its ids may write the file: always for a container of
// root without a user namespace, and for a rootless user's own copy (~/bin/urun).
// Non-dumpable processes only close the first window. So urun runs from a binary no one can
// write. As root: a detached read-only bind mount of itself (no copy), onto which the running
// image moves without an exec (linux/executable_image.hpp; an exec from that mount where the
// kernel refuses the move). Otherwise, like runc and crun, it re-executes itself from a sealed
// memfd copy.
namespace urun::runtime {

// Called by the commands that put processes into a container (create, run, exec) before
// anything else. Returns at once when urun already runs from a sealed copy or a read-only
// mount, or when the caller cannot write its binary (a root-owned binary of a rootless user: the
// container's ids cannot either); otherwise moves onto a read-only mount of itself and returns,
// or re-executes itself from a read-only mount or a sealed copy with the same arguments and
// environment (never returns then), or throws Error.
void ensure_sealed_binary(char** argv);

// The same done first thing in main, before the command line is parsed, so that an image that
// re-executes does not build the whole CLI11 app only to throw it away: when any argument is
// one of those commands' names (a false match, `urun delete run`, costs a needless re-exec,
// never a missed one). Never throws: on failure it returns, and ensure_sealed_binary() after
// parsing tries again and reports the error where the log goes.
void seal_binary_early(int argc, char** argv) noexcept;

}  // namespace urun::runtime
