#pragma once
// Which processes belong to a container: its cgroup's, or without a cgroup,
// every process in the init's pid namespace (the init alone when it shares the
// host's).
#include <sys/types.h>

#include <vector>

#include "state/store.hpp"

namespace urun::container {

// Host pids, sorted.
std::vector<pid_t> container_pids(const state::Record& record);

}  // namespace urun::container
