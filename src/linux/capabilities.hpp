#pragma once
// Capabilities through libcap. Names are "CAP_CHOWN" style (case-insensitive,
// the "CAP_" prefix optional on input).
#include <optional>
#include <string_view>

#include "spec/spec.hpp"

namespace urun::linux {

// The capability number, or -1 when the name is unknown (to libcap or to the
// running kernel: a name past CAP_LAST_CAP is unknown).
int capability_from_name(std::string_view name);

// Drops every capability not in caps.bounding from the bounding set. Needs
// CAP_SETPCAP, so it runs before the user is switched.
void drop_bounding_set(const spec::Capabilities& caps);

// After the switch to the process user: sets the effective, permitted and
// inheritable sets and raises the ambient ones. Unknown names are an Error.
void apply_capabilities(const spec::Capabilities& caps);

}  // namespace urun::linux
