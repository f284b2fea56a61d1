#pragma once
// The id maps of a user namespace the container creates: the config's linux.uidMappings and
// linux.gidMappings, or, where the config gives none, crun's default (crun(1), "Automatically
// create user namespace"): the caller as id 0 and the caller's subordinate ranges of
// /etc/subuid and /etc/subgid from id 1 on. The default applies to an unprivileged caller's
// automatic user namespace and to a "user" namespace in the config without mappings, whoever
// the caller is (root gets "0 0 1" plus root's own subordinate ranges, as with crun). Computed
// by the parent before clone.
#include <vector>

#include "spec/spec.hpp"
#include "userns/mapping.hpp"

namespace urun::runtime {

struct IdMaps {
  std::vector<userns::Mapping> uids, gids;
  // The default mapping, not the config's: when newuidmap/newgidmap cannot write it, only the
  // caller is mapped (with a warning), as the manual promises.
  bool defaulted = false;
};

// `automatic`: an unprivileged caller's user namespace that the config does not ask for.
// Otherwise the config's mappings, checked (validate_mappings, and for an unprivileged caller
// that every host id is its own or one of its subordinate ids). A side the config leaves empty
// gets the default, as in crun; the maps count as defaulted only when both sides are.
// Warns when the default finds no subordinate ids for an unprivileged caller. Throws
// urun::Error naming the config field.
IdMaps plan_id_maps(const spec::Spec& spec, bool automatic);

// The config's id-mapping triplets as userns:: takes them, and back.
std::vector<userns::Mapping> to_userns_mappings(const std::vector<spec::IdMapping>& in);
std::vector<spec::IdMapping> to_spec_mappings(const std::vector<userns::Mapping>& in);

}  // namespace urun::runtime
