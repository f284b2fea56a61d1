#pragma once
// `urun mounts add|remove CONTAINER FILE` (crun 1.22): FILE holds a JSON array of mounts in the
// config's `mounts` format ("-" reads standard input). add makes each one inside the running
// container's mount namespace; remove lazily unmounts what is mounted on each destination.
#include <string>

#include "container/commands.hpp"

namespace urun::container {

void add_mounts(const GlobalOptions& global, const std::string& id, const std::string& file);
void remove_mounts(const GlobalOptions& global, const std::string& id, const std::string& file);

}  // namespace urun::container
