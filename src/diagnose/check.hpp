#pragma once
// `urun check`: diagnoses the caller's set-up for containers in one run, rootless above all
// (user namespaces, subordinate ids, newuidmap, XDG_RUNTIME_DIR, cgroup delegation,
// networking helpers), and the root path when run as root. Each check is a small function
// that looks and never changes anything; it appends one Finding per line of the report,
// whose fix is the exact command or file edit that repairs a warn or fail.
//
// Files: checks_userns.cpp (user namespaces), checks_subid.cpp (subordinate ids and
// newuidmap/newgidmap), checks_dirs.cpp (XDG_RUNTIME_DIR, state dir), checks_cgroup.cpp
// (manager and controllers), checks_features.cpp (network helpers, seccomp, id-mapped
// mounts, CRIU), report.cpp (text and JSON), run.cpp (the order).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "container/commands.hpp"
#include "userns/subid.hpp"

namespace urun::diagnose {

// ok: fine. warn: works, with a limit the detail names. fail: blocks containers (for an
// unprivileged caller, rootless ones): `urun check` exits non-zero.
enum class Status { ok, warn, fail };
std::string_view to_string(Status status);

struct Finding {
  std::string check;  // "subordinate uids"
  Status status = Status::ok;
  std::string detail;  // what was found
  std::string fix;     // command or edit; empty for ok
};
using Findings = std::vector<Finding>;

// Who asks and with which options: what every check reads.
struct Context {
  uid_t uid = 0;
  gid_t gid = 0;
  bool root = false;  // the host's root: the root path is checked
  std::string user;   // login name, or the uid when it has none
  std::string group;  // the primary group's name, or the gid
  container::GlobalOptions global;
};
// The calling process's context.
Context current_context(const container::GlobalOptions& global);

// The checks, by group; each appends its lines.
void check_user_namespaces(const Context& ctx, Findings& out);
void check_subordinate_ids(const Context& ctx, Findings& out);
void check_idmap_helpers(const Context& ctx, Findings& out);
void check_runtime_dir(const Context& ctx, Findings& out);
void check_state_dir(const Context& ctx, Findings& out);
void check_cgroups(const Context& ctx, Findings& out);
void check_network(const Context& ctx, Findings& out);
void check_features(const Context& ctx, Findings& out);

// Every check that applies to the caller, in report order.
Findings run_checks(const Context& ctx);

// One line per finding: "STATUS  CHECK  DETAIL" and, for warn and fail, " -- fix: FIX".
std::string format_text(const Findings& findings);
// A JSON array of {"check", "status", "detail", "fix"} ("fix" is "" for ok).
std::string format_json(const Findings& findings);
// 1 when a finding failed, else 0.
int exit_status(const Findings& findings);

// Whether the file capabilities of `path` (its security.capability xattr) put `cap` in the
// permitted set, and in the effective set too when `effective`.
bool file_has_capability(const std::string& path, int cap, bool effective);

// ---- pure helpers (unit-tested) ------------------------------------------------------

// Where one of the user's ranges meets another user's.
struct Overlap {
  userns::SubIdRange mine;
  std::string other_owner;
  userns::SubIdRange theirs;
};
// The overlaps between the ranges of the user (`user_name` or `uid`) and every other
// owner's in `entries` (one file's).
std::vector<Overlap> find_overlaps(const std::vector<userns::SubIdEntry>& entries,
                                   std::string_view user_name, uint32_t uid);
// The first id at or above 100000 past every range of `entries`: where a new range of a
// user goes without overlapping anyone's (what scripts/install-deps does too).
uint64_t first_free_id(const std::vector<userns::SubIdEntry>& entries);
// "100000-165535" for the range [start, start + count).
std::string range_text(uint64_t start, uint64_t count);

}  // namespace urun::diagnose
