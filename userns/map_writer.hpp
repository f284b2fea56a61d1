#pragma once
// Writes the id maps of a child process that has just created a user namespace, by the best
// available way, and reports which way it used (for --debug and for the warning shown to the
// user). Order of preference:
//   direct    the parent writes /proc/<pid>/uid_map and gid_map itself. Used when it holds
//             CAP_SETUID/CAP_SETGID in its own namespace (root), or when each map is just the
//             caller's own id (then "deny" goes to /proc/<pid>/setgroups before the gid map,
//             as the kernel requires for an unprivileged gid map).
//   newidmap  the setuid helpers newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
//   single    fallback when the helpers are missing or fail and allow_single_fallback is set:
//             caller -> 0 (size 1) with setgroups denied, plus a warning naming the fix.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "userns/mapping.hpp"

namespace urun::userns {

enum class MapMethod {
  none,             // the map was empty, nothing written
  direct,           // written to /proc/<pid>/{uid,gid}_map by this process
  newidmap,         // newuidmap / newgidmap
  single_fallback,  // helpers unusable: only caller -> 0 was mapped
};
std::string_view to_string(MapMethod method);

struct WriteOptions {
  // Directories searched for newuidmap/newgidmap; nullopt: $PATH, or a default when unset.
  std::optional<std::string> path;
  // Map only caller -> 0 (with a warning) when the helpers are missing or fail.
  bool allow_single_fallback = false;
  // The caller's ids used for "own id" detection and the fallback; nullopt: geteuid()/getegid().
  std::optional<uint32_t> caller_uid;
  std::optional<uint32_t> caller_gid;
  // Force the privileged (direct) decision; nullopt: detect CAP_SETUID/CAP_SETGID.
  std::optional<bool> privileged;
  // Where the per-pid files live; tests point it at a fake tree. The helpers always use /proc.
  std::string proc_dir = "/proc";
};

struct MapResult {
  MapMethod uid_method = MapMethod::none;
  MapMethod gid_method = MapMethod::none;
  // True when /proc/<pid>/setgroups was set to "deny": setgroups(2) will fail with EPERM in the
  // namespace, so the container must skip it (as with run.oci.keep_original_groups).
  bool setgroups_denied = false;
  // Non-empty after a fallback: what to install or configure, for a warning to the user.
  std::string warning;
  // e.g. "uid map: newuidmap, gid map: newgidmap" for --debug.
  std::string describe() const;
};

// Writes the maps of `pid` (uids first, then gids; an empty vector writes nothing). Throws
// urun::Error naming the file or helper and its stderr when no allowed way works.
MapResult write_id_maps(pid_t pid, const std::vector<Mapping>& uids,
                        const std::vector<Mapping>& gids, const WriteOptions& options = {});

// write_id_maps in two steps, for a caller with other work meanwhile: the constructor starts
// newuidmap and newgidmap where the maps need them (each a secure exec of a setuid program that
// takes about a millisecond here), finish() writes the rest and waits for them, and reports as
// write_id_maps does. Both throw urun::Error; helpers never finished are reaped on destruction.
class PendingIdMaps {
 public:
  PendingIdMaps(pid_t pid, std::vector<Mapping> uids, std::vector<Mapping> gids,
                WriteOptions options = {});
  ~PendingIdMaps();
  PendingIdMaps(PendingIdMaps&&) noexcept;
  PendingIdMaps& operator=(PendingIdMaps&&) noexcept;
  PendingIdMaps(const PendingIdMaps&) = delete;
  PendingIdMaps& operator=(const PendingIdMaps&) = delete;

  // Once only.
  MapResult finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Writes "allow" or "deny" to <proc_dir>/<pid>/setgroups. Throws urun::Error.
void write_setgroups(pid_t pid, bool allow, std::string_view proc_dir = "/proc");

// True when this process holds `cap` (CAP_SETUID, CAP_SETGID...) in its effective set.
bool has_effective_capability(int cap);

// Looks `name` up in the ':'-separated `path` (nullopt: $PATH or a default); "" when absent.
std::string find_program(std::string_view name, const std::optional<std::string>& path);

}  // namespace urun::userns
