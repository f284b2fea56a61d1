#pragma once
// The crun `idmap` mount option (crun(1), "idmap mount options"):
//   idmap                                  map the mount with the container's user namespace
//   idmap=uids=0-1-10#10-11-10;gids=0-100-10
// Each triplet is "<id in the mount's namespace>-<host id>-<size>", i.e. exactly one line of
// uid_map/gid_map ("the first value is the start of the backing file system IDs that are mapped to
// the second value on the host"). Ranges are separated by '#'. A triplet prefixed with '@' is
// relative to the container's user namespace: its second value is a container id, translated to
// the host through the container's uidMappings/gidMappings (uids=@1-3-10 with {0->0 size 1,
// 1->2 size 1000} becomes 1-4-10).
#include <string_view>
#include <vector>

#include "userns/mapping.hpp"

namespace urun::userns {

struct IdmapSpec {
  // False for a bare "idmap": use the container's own user namespace.
  bool has_custom = false;
  // Only set when has_custom. A side not given (e.g. only uids=) stays empty: its map is not
  // written, so those ids are unmapped in the mount.
  std::vector<Mapping> uids;
  std::vector<Mapping> gids;
};

// True when a mount option names an idmap ("idmap" or "idmap=...").
bool is_idmap_option(std::string_view option);

// Parses "idmap" or "idmap=..." (also accepts the text after "idmap=" alone). Relative ranges
// are translated through container_uids/container_gids; a relative range that is not wholly
// inside those mappings is split along them, and any part that is not mapped is an error (crun
// would silently produce a wrong range there). Throws urun::Error such as
// "invalid idmap option `idmap=uids=1-2`: expected [@]<id>-<host id>-<size> in `1-2`".
IdmapSpec parse_idmap_option(std::string_view option, const std::vector<Mapping>& container_uids,
                             const std::vector<Mapping>& container_gids);

}  // namespace urun::userns
