#pragma once
// Id-mapped bind mounts, made by the runtime: the kernel lets only a process privileged over
// the source's filesystem id-map a mount, so the parent makes each one as a detached tree
// (linux/mounts/idmap_mount.hpp) that the init, or `mounts add`, moves into place. A mount is
// id-mapped through
//   - its own uidMappings/gidMappings (runtime-spec 1.2+: the runtime MUST then id-map it), in a
//     user namespace made for it unless they equal the container's own maps, as crun does;
//   - `idmap=uids=...;gids=...` (crun), in a user namespace made for it;
//   - a bare `idmap`/`ridmap`: the container's own user namespace.
// Each triplet is one uid_map line: on-disk ids [containerID, +size) appear as host ids
// [hostID, +size).
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "spec/spec.hpp"
#include "userns/mapping.hpp"

namespace urun::runtime {

struct IdmapContext {
  std::string bundle;                       // relative sources resolve from here
  int container_userns = -1;                // the container's own user namespace; -1: it has none
  std::vector<userns::Mapping> uids, gids;  // its maps: for `@` ranges and equal mappings
};

// The detached id-mapped tree of spec mount `m`, or an empty fd when it is not id-mapped
// (linux::is_idmapped). Throws Error("mount `src` on `dest`: ...").
UniqueFd make_mount_idmapped_tree(const spec::Mount& m, const IdmapContext& ctx);

// The user namespace of process `pid` when it is not the caller's own (a container without a
// user namespace shares the runtime's, which cannot id-map anything); empty fd otherwise.
UniqueFd own_user_namespace_of(pid_t pid);

}  // namespace urun::runtime
