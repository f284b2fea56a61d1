#pragma once
// Checks of one spec mount that need no system access, shared by config validation and
// `urun mounts add` (whose file holds mounts in the config's format).
#include <string>

#include "spec/spec.hpp"

namespace urun::spec {

// Throws Error naming `base` ("mounts[2].uidMappings: ...") for: an empty destination;
// uidMappings without gidMappings or the reverse; mappings on anything but a bind mount (as
// crun and runc); mappings the kernel would refuse (zero or overflowing sizes, overlapping
// ranges, more than 340 lines); copy-symlink together with src-nofollow or dest-nofollow.
void check_mount(const Mount& m, const std::string& base);

// A JSON array of mounts in the config's format (parse.cpp), for `urun mounts add|remove`.
// Throws Error naming the element: "mounts[1].destination: is required".
std::vector<Mount> mounts_from_json(const nlohmann::json& j);

}  // namespace urun::spec
