#pragma once
// Steps 12 and 13 of the runtime-spec lifecycle for a container that has a record: what
// `delete` does, and what a `start` or `run` does when a poststart hook fails.
#include <string>

#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {

// With kill, SIGKILLs every process of the container (its cgroup's, without one its init's
// pid namespace) and waits for the init to exit; then removes the cgroup, runs the poststop
// hooks (each failure a warning naming `context`, e.g. "delete `id`") and removes the state
// directory. spec: the container's config, or nullptr to read the copy in the state
// directory. Throws, leaving the state for a later `delete --force`, when the init outlives
// SIGKILL or the cgroup cannot be removed.
void destroy_container(state::ContainerDir& dir, const state::Record& record, bool kill,
                       const spec::Spec* spec, const std::string& context);

// The poststop hooks alone, with the state "stopped" (see destroy_container for the rest).
void run_container_poststop(const state::ContainerDir& dir, const state::Record& record,
                            const spec::Spec* spec, const std::string& context) noexcept;

}  // namespace urun::container
