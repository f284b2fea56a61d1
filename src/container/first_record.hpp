#pragma once
// The first state record of a container on its way ("creating"), as create and restore both
// write it before anything else exists, so that `delete` finds what a killed runtime left.
#include <string>

#include "cgroups/manager.hpp"
#include "container/bundle.hpp"
#include "state/store.hpp"

namespace urun::container {

// Id, bundle paths, owner, cgroup, annotations and the creating process (pid + start time);
// the caller adds what only it knows (rootless, poststart hooks...).
state::Record creating_record(const std::string& id, const Bundle& bundle,
                              const cgroups::Manager& cgroup, bool systemd_cgroup, bool detached);

// Removes the state dir of a create or restore that failed; a failure to do so is only warned
// about (`command` names it), since the command's own error is the one to report.
void remove_failed_state(state::ContainerDir& dir, const char* command) noexcept;

}  // namespace urun::container
