#pragma once
// The lifecycle operations behind the CLI commands. Each takes a request
// struct filled by src/cli/ and throws urun::Error; main prints it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace urun::container {

struct GlobalOptions {
  std::string root;  // state root; "" -> state::default_root()
  bool no_pivot = false;
  std::string cgroup_manager;  // "" (auto) | cgroupfs | systemd | disabled
  bool systemd_cgroup = false;
};

struct CreateRequest {
  std::string id;
  std::string bundle;  // "" -> current directory
  std::string config = "config.json";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  std::string pidfd_socket;  // receives a pidfd of the init (common/pidfd.hpp)
  // run --keep (crun, runc 1.2): the container is not deleted when its process exits; it
  // stays "stopped" until `delete` (which then removes the cgroup and runs poststop).
  bool keep = false;
};

// create: the container waits in "created" until start.
void create(const GlobalOptions& global, const CreateRequest& request);
// run: create + start; foreground unless detach. Returns the exit status to
// exit with (the container's, or 128 + signal).
int run(const GlobalOptions& global, const CreateRequest& request, bool detach);
void start(const GlobalOptions& global, const std::string& id);

// OCI state JSON of one container (pretty-printed, as crun prints it).
std::string state(const GlobalOptions& global, const std::string& id);

enum class ListFormat { table, json, quiet };
std::string list(const GlobalOptions& global, ListFormat format);

// signal: a name with or without SIG ("KILL", "SIGKILL") or a number.
int parse_signal(const std::string& signal);
void kill(const GlobalOptions& global, const std::string& id, const std::string& signal, bool all);
// --regex: every container whose id matches; returns how many were signalled.
void kill_matching(const GlobalOptions& global, const std::string& regex, const std::string& signal,
                   bool all);

void remove(const GlobalOptions& global, const std::string& id, bool force);
void remove_matching(const GlobalOptions& global, const std::string& regex, bool force);

// pause/resume: freeze and thaw every process through the cgroup freezer.
void pause(const GlobalOptions& global, const std::string& id);
void resume(const GlobalOptions& global, const std::string& id);

// ps: "json" is a JSON array of host pids (what containerd reads); "table"
// has a PID header and one row per process.
std::string ps(const GlobalOptions& global, const std::string& id, const std::string& format);

// update: resources_json is a runtime-spec LinuxResources object, built from
// the command's flags or read from -r FILE.
void update(const GlobalOptions& global, const std::string& id, const std::string& resources_json);

// update --l3-cache-schema / --mem-bw-schema: rewrites those lines of the schemata of the
// container's resctrl group (linux.intelRdt). Nullopt: not given.
void update_intel_rdt(const GlobalOptions& global, const std::string& id,
                      const std::optional<std::string>& l3, const std::optional<std::string>& mb);

// "64m" -> 67108864 (k, m, g, t with base 1024; b or nothing: bytes); "-1" is
// -1 (unlimited). Throws Error naming `what` on anything else.
int64_t parse_size(const std::string& text, const std::string& what);

struct ExecRequest {
  std::string id;
  std::vector<std::string> args;  // CMD [ARGS...]; empty with process_file
  std::string process_file;       // --process: a runtime-spec process object
  std::string cwd;
  std::vector<std::string> env;   // KEY=VALUE, added to or overriding the container's
  std::string user;               // UID[:GID]
  std::vector<std::string> caps;  // added to the bounding, effective and permitted sets
  bool no_new_privs = false;
  bool tty = false;
  std::string console_socket;
  bool detach = false;
  std::string pid_file;
  int preserve_fds = 0;
  std::string cgroup;  // a sub-cgroup of the container's that must exist
  std::string apparmor;
  std::string process_label;
  std::string pidfd_socket;  // receives a pidfd of the process (common/pidfd.hpp)
  // -g/--additional-gids (runc): appended to the process's user.additionalGids.
  std::vector<uint32_t> additional_gids;
  // --ignore-paused (runc): exec into a paused container; the process starts when the
  // container is resumed (it is frozen as soon as it joins the cgroup).
  bool ignore_paused = false;
};

// exec: runs a process in a running (or created) container. Returns the exit
// status to exit with: the process's (128 + signal when killed) in the
// foreground, 0 with detach. A command that cannot be executed throws
// ExecFailure (common/exec_failure.hpp), whose status() is 127 or 126.
int exec(const GlobalOptions& global, const ExecRequest& request);

// Before create, run and exec, which put urun processes into a container: makes urun run from a
// binary no container can write when it does not yet (runtime/sealed_binary.hpp).
void ensure_sealed_binary(char** argv);
// The same, first thing in main, before the command line is parsed: see
// runtime::seal_binary_early. Never throws.
void seal_binary_early(int argc, char** argv) noexcept;

// spec: writes <bundle>/config.json (refuses to overwrite).
void write_spec(const std::string& bundle, bool rootless);

}  // namespace urun::container
