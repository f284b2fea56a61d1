#pragma once
// The config a container was created with: create keeps its text in the container's
// identity.json, restore (and an older urun) a config.json copy beside it
// (state/store.hpp), so that later commands (exec, update, checkpoint, start's poststart
// hooks, delete's poststop hooks) neither depend on the bundle nor see later edits of it.
#include <optional>

#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {

// The copy, parsed; nullopt when there is none. Throws Error when it cannot be read or parsed.
std::optional<spec::Spec> read_saved_config(const state::ContainerDir& dir);

}  // namespace urun::container
