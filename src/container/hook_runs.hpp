#pragma once
// The hooks whose failure is only a warning (runtime-spec 1.3: poststop), run at the end of
// a container's life. The hook runner itself is runtime/hooks.hpp (container/hooks.hpp
// re-exports it).
#include <string>

#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {

// The poststop hooks of spec, in order, with the output files of its
// run.oci.hooks.* annotations (bundle: the bundle directory). A hook that fails
// is a warning ("<context>: poststop hook `path`: <why>", context names the
// operation and container) and the next one runs all the same; nothing throws.
void run_poststop_hooks(const spec::Spec& spec, const std::string& bundle,
                        const std::string& state_json, const std::string& context) noexcept;

// The same for a container that has stopped: the hooks see its state as "stopped".
void run_stopped_hooks(const spec::Spec& spec, const state::Record& record,
                       const std::string& context) noexcept;

}  // namespace urun::container
