#pragma once
// Subordinate ids: /etc/subuid and /etc/subgid (subuid(5)). Both files are keyed by the *user*
// (name or numeric uid), also /etc/subgid: newgidmap looks up the calling user, not a group.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "userns/mapping.hpp"

namespace urun::userns {

inline constexpr std::string_view kSubUidPath = "/etc/subuid";
inline constexpr std::string_view kSubGidPath = "/etc/subgid";

// Returns the ranges of the lines "name:start:count" whose first field is `user_name` (when not
// empty) or the decimal `uid`, in file order. Blank lines and '#' comments are ignored; malformed
// lines, count 0 and ranges past 2^32 are skipped with a debug log message, never an error.
std::vector<SubIdRange> parse_subid(std::string_view file_content, std::string_view user_name,
                                    uint32_t uid);

// One valid line of a subordinate id file, whoever it belongs to.
struct SubIdEntry {
  std::string owner;  // login name or decimal uid, as written
  SubIdRange range;
  bool operator==(const SubIdEntry&) const = default;
};
// Every valid line, in file order (the same rules as parse_subid, for all owners): what
// `urun check` needs to find ranges that overlap another user's.
std::vector<SubIdEntry> parse_subid_entries(std::string_view file_content);
// True when `owner` (a line's first field) names the user `user_name` or `uid`.
bool subid_owner_is(std::string_view owner, std::string_view user_name, uint32_t uid);

// The content of the file at `path`; "" when it does not exist. Throws urun::Error when it
// exists but cannot be read.
std::string read_subid_file(const std::string& path);

// parse_subid on the file at `path`; an absent file yields no ranges. Throws urun::Error when
// the file exists but cannot be read.
std::vector<SubIdRange> read_subids(const std::string& path, std::string_view user_name,
                                    uint32_t uid);

// crun's "Automatically create user namespace" for a non-root caller: uid -> 0 and gid -> 0, then
// the user's ranges from the subuid and subgid files (both looked up by the user's login name
// and numeric uid) from id 1 upwards, via default_mapping. Absent files give just the single
// mapping. Throws urun::Error only when a file exists but cannot be read.
struct DefaultMappings {
  std::vector<Mapping> uids;
  std::vector<Mapping> gids;
};
DefaultMappings rootless_default_mappings(
    uid_t uid, gid_t gid, const std::string& subuid_path = std::string(kSubUidPath),
    const std::string& subgid_path = std::string(kSubGidPath));

// The login name of `uid` from the password database, or nullopt when it has none; looked up
// once per process and uid.
std::optional<std::string> user_name(uid_t uid);

}  // namespace urun::userns
