#include "spec/mount_checks.hpp"

#include <algorithm>
#include <string_view>

#include "common/error.hpp"
#include "userns/mapping.hpp"

namespace urun::spec {
namespace {

[[noreturn]] void fail(const std::string& path, std::string_view reason) {
  throw Error(path + ": " + std::string(reason), EINVAL);
}

bool has_option(const Mount& m, std::string_view name) {
  return std::find(m.options.begin(), m.options.end(), name) != m.options.end();
}

void check_mappings(const std::vector<IdMapping>& maps, const std::string& what) {
  std::vector<userns::Mapping> lines;
  lines.reserve(maps.size());
  for (const auto& m : maps) lines.push_back({m.container_id, m.host_id, m.size});
  // Names each entry as "<what>[i]": the kernel would refuse the whole map write later.
  try {
    userns::validate_mappings(lines, what);
  } catch (const Error& e) {
    throw Error(e.message(), EINVAL);
  }
}

}  // namespace

void check_mount(const Mount& m, const std::string& base) {
  // runtime-spec 1.2: on Linux a relative destination is deprecated but allowed and means
  // relative to "/", so only an empty one is an error.
  if (m.destination.empty()) fail(base + ".destination", "must not be empty");
  const bool uids = !m.uid_mappings.empty(), gids = !m.gid_mappings.empty();
  if (uids || gids) {
    if (!uids || !gids)
      fail(base, std::string("an id-mapped mount needs both uidMappings and gidMappings, ") +
                     "got only " + (uids ? "uidMappings" : "gidMappings"));
    if (m.type != "bind" && !has_option(m, "bind") && !has_option(m, "rbind"))
      fail(base, "uidMappings and gidMappings are supported on bind mounts only");
    check_mappings(m.uid_mappings, base + ".uidMappings");
    check_mappings(m.gid_mappings, base + ".gidMappings");
  }
  if (has_option(m, "copy-symlink") &&
      (has_option(m, "src-nofollow") || has_option(m, "dest-nofollow")))
    fail(base + ".options",
         "copy-symlink is mutually exclusive with src-nofollow and dest-nofollow");
}

}  // namespace urun::spec
