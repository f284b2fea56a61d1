#include "runtime/id_maps.hpp"

#include <unistd.h>

#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "userns/subid.hpp"

namespace urun::runtime {
namespace {

// The default of a caller without subordinate ids is its own id alone: say what is missing and
// how to add it, since `chown`, `su` and package managers will fail in such a container.
void warn_without_subordinate_ids(uid_t uid, bool uids_missing, bool gids_missing) {
  const std::string name = userns::user_name(uid).value_or(std::to_string(uid));
  std::string files, options;
  if (uids_missing) {
    files = std::string(userns::kSubUidPath);
    options = "--add-subuids 100000-165535";
  }
  if (gids_missing) {
    files += (files.empty() ? "" : " and ") + std::string(userns::kSubGidPath);
    options += (options.empty() ? "" : " ") + std::string("--add-subgids 100000-165535");
  }
  log::warning("no subordinate ids for " + quote(name) + " in " + files +
               ": the container maps only the caller's own id (add a range, e.g. `usermod " +
               options + " " + name + "`)" + std::string(hint_text(Hint::rootless_setup)));
}

}  // namespace

IdMaps plan_id_maps(const spec::Spec& spec, bool automatic) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  IdMaps maps;
  if (!automatic && spec.linux) {
    maps.uids = to_userns_mappings(spec.linux->uid_mappings);
    maps.gids = to_userns_mappings(spec.linux->gid_mappings);
  }
  const bool default_uids = maps.uids.empty(), default_gids = maps.gids.empty();
  maps.defaulted = default_uids && default_gids;
  std::optional<std::string> user;  // read once, for either check below
  auto user_of_caller = [&]() -> const std::string& {
    if (!user) user = userns::user_name(uid).value_or("");
    return *user;
  };
  if (!default_uids) {
    userns::validate_mappings(maps.uids, "linux.uidMappings");
    // Checked here, before clone, so the error names the config field rather than
    // newuidmap's refusal; a missing range is the caller's set-up.
    if (uid != 0)
      with_hint(Hint::rootless_setup, [&] {
        userns::check_available(
            maps.uids, uid,
            userns::read_subids(std::string(userns::kSubUidPath), user_of_caller(), uid),
            "linux.uidMappings");
      });
  }
  if (!default_gids) {
    userns::validate_mappings(maps.gids, "linux.gidMappings");
    if (uid != 0)
      with_hint(Hint::rootless_setup, [&] {
        userns::check_available(
            maps.gids, gid,
            userns::read_subids(std::string(userns::kSubGidPath), user_of_caller(), uid),
            "linux.gidMappings");
      });
  }
  if (!default_uids && !default_gids) return maps;

  userns::DefaultMappings defaults = userns::rootless_default_mappings(uid, gid);
  if (default_uids) maps.uids = std::move(defaults.uids);
  if (default_gids) maps.gids = std::move(defaults.gids);
  // Root without subordinate ids gets "0 0 1" as from crun, silently: it chose no ranges.
  const bool uids_missing = default_uids && maps.uids.size() == 1;
  const bool gids_missing = default_gids && maps.gids.size() == 1;
  if (uid != 0 && (uids_missing || gids_missing))
    warn_without_subordinate_ids(uid, uids_missing, gids_missing);
  return maps;
}

std::vector<userns::Mapping> to_userns_mappings(const std::vector<spec::IdMapping>& in) {
  std::vector<userns::Mapping> out;
  out.reserve(in.size());
  for (const auto& m : in) out.push_back({m.container_id, m.host_id, m.size});
  return out;
}

std::vector<spec::IdMapping> to_spec_mappings(const std::vector<userns::Mapping>& in) {
  std::vector<spec::IdMapping> out;
  out.reserve(in.size());
  for (const auto& m : in) out.push_back({m.container_id, m.host_id, m.size});
  return out;
}

}  // namespace urun::runtime
