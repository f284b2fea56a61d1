// ====================================================================================
// TO MERGE (issue 11/14): `features` entries of modules being built on other branches at
// the same time as this list. Each block names its branch. When merging a branch, move
// its entries into the module's own table (as known_mount_options() and
// seccomp_features() are) and delete the block; tests/unit/features_test.cpp then checks
// them against the code like every other entry.
// ====================================================================================
#include "container/features.hpp"

namespace urun::container {

const std::vector<std::string>& pending_mount_options() {
  // i11-mounts: src-nofollow, dest-nofollow.
  static const std::vector<std::string> kOptions = {"src-nofollow", "dest-nofollow"};
  return kOptions;
}

void add_pending_features(nlohmann::ordered_json& f) {
  for (const auto& o : pending_mount_options()) f["mountOptions"].push_back(o);
  // i11-mounts: mount-level uidMappings/gidMappings (runtime-spec's "idmap" mount extension;
  // the `idmap` mount option alone, with the container's mapping, is not it).
  f["linux"]["mountExtensions"]["idmap"]["enabled"] = true;

  // i11-hostres: linux.intelRdt (resctrl: closID, schemata, l3CacheSchema, memBwSchema,
  // enableMonitoring) and linux.netDevices. (The time namespace is already listed;
  // run.oci.timens_offset is an annotation, under potentiallyUnsafeConfigAnnotations.)
  f["linux"]["intelRdt"] = {{"enabled", true}, {"schemata", true}, {"monitoring", true}};
  f["linux"]["netDevices"] = {{"enabled", true}};

  // i11-procattr: linux.memoryPolicy (process.scheduler, process.ioPriority and
  // linux.personality have no features entry in runtime-spec 1.3).
  f["linux"]["memoryPolicy"] = {
      {"modes",
       {"MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL",
        "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE"}},
      {"flags", {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"}}};

  // i14-criu: checkpoint/restore, as runc and crun announce it; CRIU's own annotations.
  if (criu_usable()) {
    f["annotations"]["org.opencontainers.runc.checkpoint.enabled"] = "true";
    f["potentiallyUnsafeConfigAnnotations"].push_back("org.criu.");
  }
}

// i14-criu: replace with the real probe (a criu binary that answers `criu check`).
bool criu_usable() { return false; }

}  // namespace urun::container
