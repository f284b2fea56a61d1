#pragma once
// Capabilities through libcap. Names are "CAP_CHOWN" style (case-insensitive,
// the "CAP_" prefix optional on input).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/spec.hpp"

namespace urun::linux {

// The capability number, or -1 when the name is unknown (to libcap or to the
// running kernel: a name past CAP_LAST_CAP is unknown).
int capability_from_name(std::string_view name);
// The same against an explicit last capability number (tests; callers that
// already read /proc/sys/kernel/cap_last_cap).
int capability_from_name(std::string_view name, int last_cap);

// The highest capability number of the running kernel
// (/proc/sys/kernel/cap_last_cap, probed through libcap when /proc is absent).
int last_capability();

// Every capability name libcap knows ("CAP_CHOWN", ...), in number order: what
// `features` lists.
std::vector<std::string> known_capability_names();

// Drops every capability not in caps.bounding from the bounding set. Needs
// CAP_SETPCAP, so it runs before the user is switched.
void drop_bounding_set(const spec::Capabilities& caps);

// After the switch to the process user: sets the effective, permitted and
// inheritable sets and raises the ambient ones. Unknown names are an Error.
// Capabilities urun itself lacks (not in its permitted set, or for inheritable
// not in its bounding set), names unknown to the running kernel, and ambient
// ones that end up outside permitted or inheritable are left out with a debug
// message. An effective capability missing from the spec's permitted set is an
// Error (EPERM), as capset(2) makes it for runc and crun.
void apply_capabilities(const spec::Capabilities& caps);

}  // namespace urun::linux
