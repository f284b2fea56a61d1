#pragma once
// The config a container was created with: create and restore keep a copy in its state
// directory, so that later commands (exec, update, checkpoint, start's poststart hooks,
// delete's poststop hooks) neither depend on the bundle nor see later edits of it.
#include <optional>

#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {

// The copy's name in the state directory.
inline constexpr const char* kSavedConfig = "config.json";

// The copy, parsed; nullopt when there is none. Throws Error when it cannot be read or parsed.
std::optional<spec::Spec> read_saved_config(const state::ContainerDir& dir);

}  // namespace urun::container
