#pragma once
// Id mappings (the lines of /proc/<pid>/uid_map and gid_map) and the pure arithmetic on them:
// the rootless default mapping, validation of a spec's mappings, and the check that every host id
// a mapping uses is one the caller may map. Nothing here touches the system.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace urun::userns {

// One line of uid_map/gid_map: ids [container_id, container_id + size) inside the namespace are
// ids [host_id, host_id + size) in the parent namespace.
struct Mapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
  bool operator==(const Mapping&) const = default;
};

// One subordinate range of /etc/subuid or /etc/subgid: host ids [start, start + count).
struct SubIdRange {
  uint32_t start = 0;
  uint32_t count = 0;
  bool operator==(const SubIdRange&) const = default;
};

// The kernel accepts at most this many lines in one uid_map/gid_map write (since Linux 4.15).
inline constexpr size_t kMaxMapLines = 340;

// The rootless default (crun's "Automatically create user namespace"): caller_id -> 0 (size 1),
// then the subordinate ranges in file order from container id 1 upwards, consecutive. Host ids
// already used (the caller's own id inside a range, ranges listed twice or overlapping) are cut
// out so no host id is mapped twice. Stops at kMaxMapLines lines or when container ids run out.
std::vector<Mapping> default_mapping(uint32_t caller_id, const std::vector<SubIdRange>& ranges);

// Checks what the kernel would reject, with messages naming the entry; `what` is the JSON name
// ("uidMappings"): "uidMappings[1]: size must not be 0", "uidMappings[0]: range past 4294967295",
// "uidMappings: ranges [0,65536) and [1000,1001) overlap in the container" (or "on the host"),
// "uidMappings: 341 ranges, the kernel accepts at most 340". Throws urun::Error.
void validate_mappings(const std::vector<Mapping>& mappings, std::string_view what);

// Checks that every host id of `mappings` is either caller_id or inside one of `allowed`
// (the caller's subordinate ranges). Throws urun::Error naming the first host id that is not,
// e.g. "uidMappings[1]: host id 165536 is not available to id 1000 (neither its own id nor in
// its subordinate ranges)". Does not validate the mappings themselves (call validate_mappings
// first).
void check_available(const std::vector<Mapping>& mappings, uint32_t caller_id,
                     const std::vector<SubIdRange>& allowed, std::string_view what);

// True when the mappings are exactly {X -> caller_id, size 1}: what an unprivileged process may
// write to uid_map/gid_map itself without newuidmap.
bool is_single_own_id(const std::vector<Mapping>& mappings, uint32_t caller_id);

// The text written to uid_map/gid_map: "<container> <host> <size>\n" per mapping.
std::string format_id_map(const std::vector<Mapping>& mappings);

// Parses the text of a uid_map/gid_map file (whitespace-separated triplets, one per line).
// Throws urun::Error on malformed content.
std::vector<Mapping> parse_id_map(std::string_view content);

// Translates an id of the namespace to the parent namespace; false when it is not mapped.
bool to_host_id(const std::vector<Mapping>& mappings, uint32_t container_id, uint32_t& host_id);

}  // namespace urun::userns
