#pragma once
// The child-side steps that the container init and `exec` share: becoming
// root of a user namespace, switching to the process user with its
// capabilities, keeping only the fds the process may see, and finding the
// program. They run in a forked child between fork and execve.
#include <sys/types.h>

#include <string>
#include <vector>

#include "linux/seccomp/seccomp.hpp"
#include "runtime/sync_channel.hpp"
#include "spec/spec.hpp"

namespace urun::runtime {

// Called once the uid/gid maps exist (or a user namespace was joined): become
// root of the user namespace so that the set-up that follows has its
// capabilities.
void become_namespace_root();

// Bounding set, user and groups, no_new_privs, then the capability sets, in the
// order the kernel requires (dropping the bounding set needs CAP_SETPCAP, so
// before the switch to the process user). keep_groups: leave the
// supplementary groups alone (setgroups is denied, or the config asks for it).
void apply_process_user(const spec::Process& proc, bool keep_groups);

// Closes every fd from `first` up except those in `keep`: the first step of a
// child that will enter the container, before it resolves a path in there. An
// fd it did not choose to pass (a directory the caller leaked to urun, a copy
// of the parent's end of the sync socket) would otherwise be reachable as
// /proc/self/fd/N from inside until exec.
void close_fds_from(int first, std::vector<int> keep);

// Only 0-2 and the preserved fds reach the process: every other fd is marked
// close-on-exec (not closed: a sync channel may still be needed until exec).
void mark_fds_cloexec(int preserve_fds);
void clear_cloexec_on_preserved(int preserve_fds);

// chdir to the process's cwd once the process's root is the container's: the
// path is resolved from that root and never through a /proc magic link
// (/proc/self/fd/N, /proc/<pid>/cwd or root: each can name a directory outside
// the container, the CVE-2024-21626 class), and afterwards getcwd() must show a
// directory reachable from the root, as runc checks. Throws Error naming cwd.
void enter_cwd(const std::string& cwd);

// Before the rootfs turns read-only (crun does the same): makes a missing cwd
// and its missing parents, mode 0755 whatever the caller's umask, owned by
// whoever we are (the container's root). Resolved inside the process's root,
// which must be the container's by now. Best effort: a cwd that cannot be made
// fails enter_cwd() later, with its reason. Nothing to do for "/".
void create_missing_cwd(const std::string& cwd);

// Every process leads a session of its own, terminal or not, as with crun and
// runc: the caller's job control (its terminal's signals, its process group)
// stays out of the container.
void start_new_session();

// A HOME for a process whose env has none (not even an empty one): its user's
// entry in the container's /etc/passwd, else "/" (linux/passwd.hpp). Call it
// with the container's root as the process's root, while still privileged.
void add_home_env(std::vector<std::string>& env, uid_t uid);

// Hands stdio the caller gave us (a pipe, a file, a socket) to the process
// user, so that it can reopen /dev/stdout, as crun and runc do. Only what the
// caller owns (our own euid, which also leaves out what the user namespace
// does not map) and never a device (a terminal, /dev/null: shared with others).
// Call it as the container's root, before the switch to the process user.
// Best effort, as in crun: an id the namespace does not map, or a read-only
// filesystem, leaves the fd as it is.
void hand_stdio_to(const spec::User& user);

// The parent blocks the signals it forwards and may ignore SIGPIPE; the
// container's process must start with a clean slate (both survive execve).
void reset_signals();

// Finds the program like execvp would with the process's PATH (from env, or
// the default PATH), so a missing executable fails create, not start, as crun
// does. Returns the path to exec; throws Error with ENOENT/EACCES otherwise.
std::string find_executable(const std::string& program, const std::vector<std::string>& env);

// Loads the seccomp filter; a NOTIFY profile's listener fd goes to the parent
// (kSeccompListener), which hands it to the agent.
void apply_seccomp(const linux::SeccompProgram& program, const SyncChannel& channel);

// execve(program, args, env); throws Error when it returns.
[[noreturn]] void exec_process(const std::string& program, const std::vector<std::string>& args,
                               const std::vector<std::string>& env);

}  // namespace urun::runtime
