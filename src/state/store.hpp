#pragma once
// The state store: one directory per container under the root
// (--root, else $XDG_RUNTIME_DIR/urun for non-root, else /run/urun), mode 0700,
// which must be the caller's (see check_state_root). Each container directory
// is guarded by an flock so concurrent commands on one id cannot corrupt it,
// and holds (files written to a temp file and renamed):
//   identity.json  the record as create first writes it ("creating"), never
//                  rewritten: what identifies the container's processes (its
//                  cgroup, or without one its init by pid and start time), so
//                  that `delete --force` can still kill them when state.json
//                  is lost. Until create's final write it is the record. It
//                  also carries the config text the container was created with
//                  (key "config"), which start, exec, pause and delete read:
//                  one file fewer to create and delete per container than a
//                  config copy of its own (each costs an inode, a block and a
//                  discard on ext4 /run).
//   state.json     the record from create's final write on.
//   config.json    the config copy of containers made by an older urun, and
//                  of restored ones; read_config() falls back to it.
// Create writes each once, as it wrote state.json twice before: the second
// file costs no extra write on the start path.
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"

namespace urun::state {

// Restricts ids as crun 1.28 does, with its messages: "empty container ID", "invalid container
// ID `.x`" (a leading `.`), "invalid character `/` in the container ID `a/b`" (anything but
// [A-Za-z0-9_+.-]); also longer than 255 bytes (a directory name).
void validate_id(std::string_view id);
// The id as a message may show it: bytes outside printable ASCII escaped
// (\xNN), cut after 64 bytes. Ids read from a file may hold anything.
std::string printable_id(std::string_view id);

// The root directory to use when --root is absent, for the effective uid.
// Non-root: $XDG_RUNTIME_DIR/urun; when unset, /run/user/<uid>/urun if
// /run/user/<uid> exists and is owned by us; else throws an Error that says to
// set XDG_RUNTIME_DIR or pass --root. The host's root: /run/urun; root in a
// user namespace: $XDG_RUNTIME_DIR/urun when set (rootless Podman), else
// /run/urun.
std::string default_root();
// The same decision for a given effective uid and $XDG_RUNTIME_DIR value
// (nullptr when unset) with /run/user replaced by run_user_base, so tests can
// exercise the non-root fallback without touching the real /run/user.
// host_root: whether uid 0 is the host's root (not root in a user namespace).
std::string default_root(uid_t euid, const char* xdg_runtime_dir,
                         const std::string& run_user_base = "/run/user", bool host_root = true);

// What later commands need to act safely on the container.
struct Record {
  std::string oci_version;
  std::string id;
  std::string status;  // as last written: "creating", "created", "running", "stopped"
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // field 22 of /proc/<pid>/stat: detects a reused pid
  std::string bundle;           // absolute
  std::string rootfs;           // absolute
  std::string config_path;      // absolute path of the config used
  std::string created;          // RFC 3339, UTC, nanoseconds
  std::string owner;            // user name of the creator (uid when unknown)
  uid_t owner_uid = 0;
  bool rootless = false;
  bool systemd_cgroup = false;
  std::string cgroup_manager;  // "cgroupfs" | "systemd" | "disabled"
  std::string cgroup_path;     // as chosen at create ("" when disabled)
  // cgroups::Manager::to_state(): what later commands rebuild the manager from
  // (paths per hierarchy on v1). Null when the container has no cgroup.
  nlohmann::json cgroup;
  // Processes urun started beside the container (network/helper.hpp: the network keeper and
  // slirp4netns or pasta), with their start times (0: unknown), which delete stops.
  std::vector<pid_t> helper_pids;
  std::vector<uint64_t> helper_start_times;
  // The runtime process that wrote the "creating" record, and its start time:
  // once it is gone while the record still says "creating", the create was
  // aborted (the runtime was killed) and the container counts as stopped.
  pid_t creator_pid = 0;
  uint64_t creator_start_time = 0;
  bool detached = true;  // created by `create` (vs foreground `run`)
  // Whether the config has poststart hooks, so that `start` reads and parses
  // the config copy only when it must. True (look) in records without the key.
  bool poststart_hooks = true;
  std::map<std::string, std::string> annotations;
  // resctrl groups (linux.intelRdt) this container made, removed when it is deleted.
  std::vector<std::string> resctrl_dirs;
};

// What reading a record file found. A broken record (unreadable, not a
// regular file, empty, not JSON, wrong types, another container's) is a
// value, not an error: `list` goes on past it and `delete --force` recovers.
struct LoadedRecord {
  enum class Kind { ok, absent, broken };
  Kind kind = Kind::absent;
  Record record;        // Kind::ok
  std::string file;     // the file read (the last one tried)
  std::string problem;  // Kind::broken: "`/run/urun/x/state.json` is empty"
  bool ok() const { return kind == Kind::ok; }
  bool broken() const { return kind == Kind::broken; }
};

class ContainerDir;

class StateStore {
 public:
  // Creates the root (and missing parents) with mode 0700 when absent, and
  // refuses one another user could change (check_state_root) with a message
  // that names the path and the fix.
  explicit StateStore(std::string root);
  const std::string& root() const { return root_; }

  // Creates the container's directory exclusively and returns it locked.
  // Throws Error("container `id` already exists") when present.
  ContainerDir create(std::string_view id);
  // Opens an existing container's directory, locked (exclusive or shared).
  // Throws Error("container `id` does not exist") with ENOENT when absent.
  ContainerDir open(std::string_view id, bool exclusive = true);
  bool exists(std::string_view id) const;
  // Ids of all containers, sorted.
  std::vector<std::string> list_ids() const;
  // The container's record read without its lock: records are replaced by
  // rename, so a reader sees a whole one. Throws Error(ENOENT) when the
  // container does not exist.
  LoadedRecord peek(std::string_view id) const;

 private:
  std::string root_;
  UniqueFd root_fd_;
};

class ContainerDir {
 public:
  ContainerDir(std::string id, std::string path, UniqueFd dir_fd);
  // root_fd: a dup of the store's root directory fd, so remove() unlinks the
  // very directory that was opened even if the root path is renamed meanwhile.
  ContainerDir(std::string id, std::string path, UniqueFd dir_fd, UniqueFd root_fd);
  ContainerDir(ContainerDir&&) noexcept = default;
  ContainerDir& operator=(ContainerDir&&) noexcept = default;

  const std::string& id() const { return id_; }
  const std::string& path() const { return path_; }
  int fd() const { return dir_fd_.get(); }

  // state.json via a temp file + rename: readers never see half a record.
  void write(const Record& record) const;
  // identity.json, once, by create (see the top of this file), with the
  // config text when one is given.
  void write_identity(const Record& record, std::string_view config_text = {}) const;
  // The config text the container was created with: identity.json's, else
  // config.json (see the top of this file); nullopt when neither has one.
  std::optional<std::string> read_config() const;
  // The record: state.json, else (create not finished) identity.json.
  LoadedRecord load() const;
  // identity.json alone: what recovery from a broken state.json goes by.
  LoadedRecord load_identity() const;
  // load() for callers that need a record: throws Error naming the file and
  // what is wrong with it (ENOENT when there is none, EUCLEAN when broken).
  Record read() const;
  // True once a record (state.json or identity.json) has been written.
  bool has_record() const;
  // Removes the directory and everything in it. The lock is kept until the
  // ContainerDir is destroyed, so a command waiting on it then sees that the
  // directory was unlinked and reports that the container does not exist.
  void remove();
  // A foreground `run` lets go of the lock while its process runs, so that
  // `kill`, `delete --force`, `pause` and `exec` from elsewhere are not held
  // up, and takes it back afterwards. relock() is false when the container was
  // deleted meanwhile (its directory is gone: nothing is left to clean up).
  void unlock() const;
  bool relock() const;

 private:
  std::string id_;
  std::string path_;
  UniqueFd dir_fd_;   // also holds the flock
  UniqueFd root_fd_;  // O_PATH of the store root; invalid: use the parent of path_
};

// Record <-> JSON (the OCI state fields plus urun's own under their own keys).
std::string to_json_text(const Record& record);
// With the config text under "config" (identity.json), when not empty.
std::string to_json_text(const Record& record, std::string_view config_text);
// The "config" text of a record file's text when it is container `id`'s
// record and has one; nullopt otherwise (another container's, broken, none).
std::optional<std::string> config_of_record(std::string_view text, std::string_view id);
Record from_json_text(std::string_view text, const std::string& what);
// from_json_text for a record file of container `id`: also refuses an empty
// text and a record of another container (a copied file: acting on it would
// touch that container's processes). Messages name `what`.
Record parse_record(std::string_view text, std::string_view id, const std::string& what);
// The record file `name` in dir_fd (dir_path names it in messages). Never
// follows a symlink, never blocks on a fifo, reads at most a few MiB.
LoadedRecord load_record_file(int dir_fd, const char* name, std::string_view id,
                              const std::string& dir_path);
// The whole text of record file `name` read the same careful way; nullopt
// when it is absent or cannot be read as a record file (problem says why).
std::optional<std::string> read_record_text(int dir_fd, const char* name, std::string* problem);

// ---- state root ownership ------------------------------------------------
// The state root is the directory that holds the containers' directories.
// Another user who could write it could plant a container (whose record
// `delete` would act on) or read the records; one who could rename it away
// could put a directory of their own in its place. So, as runc and crun keep
// their roots private (runc chmods its XDG root 0700, which fails unless the
// caller owns it), urun refuses a root unless:
//  1. the root is owned by the caller (euid, as the caller's user namespace
//     sees it: for rootless Podman, root in its namespace, the mapped user's
//     $XDG_RUNTIME_DIR/urun shows as owned by 0) and not writable by group
//     or others (a sticky bit on the root itself does not stop others from
//     creating entries);
//  2. its parent, whose entry for the root could be renamed by the parent's
//     owner (always) and by whoever may write it when it is not sticky, is
//     owned by the caller or root and either not writable by group or others
//     or sticky: a 1777 XDG_RUNTIME_DIR or /tmp is fine once urun/ in it is
//     ours.
// Directories above the parent are not checked: they are the system's
// (/run, /run/user, /tmp), and in a user namespace the host's root shows as
// the overflow uid, so a check up to / would refuse rootless Podman's
// /run/user/<uid>/urun.
struct DirOwnership {
  uid_t uid = 0;
  mode_t mode = 0;  // st_mode
};
enum class RootProblem { none, root_owner, root_writable, parent_owner, parent_writable };
RootProblem check_state_root(DirOwnership root, DirOwnership parent, uid_t euid);
// The one-line message for a problem: what is wrong and the fix, naming
// root_path (and parent_path when the parent is the problem).
std::string describe_root_problem(RootProblem problem, const std::string& root_path,
                                  DirOwnership root, const std::string& parent_path,
                                  DirOwnership parent, uid_t euid);

// "2026-11-22T07:13:53.123456789Z": UTC with nanoseconds, for Record::created.
std::string rfc3339_now();
// The same text for a given time (seconds and nanoseconds since the epoch).
std::string rfc3339_utc(const timespec& ts);

// Field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat; 0 when the
// process does not exist. Together with the pid it names one process: a pid
// that was reused belongs to a process with a different start time.
uint64_t process_start_time(pid_t pid);
// True when pid exists, has not exited (not a zombie, state 'Z' or 'X'), and
// started at start_time. start_time 0 means unknown: only liveness is checked.
bool process_alive(pid_t pid, uint64_t start_time);
// Pure parsers of one /proc/<pid>/stat line. The comm field (2) may hold
// spaces and ')', so fields are counted from the last ')'. They return 0 /
// '\0' when the line is malformed.
uint64_t parse_stat_start_time(std::string_view stat_line);
char parse_stat_state(std::string_view stat_line);

}  // namespace urun::state
