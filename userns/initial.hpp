#pragma once
// Whether this process runs in the host's (initial) user namespace. Low in the layers
// because the state store (choosing the default --root), the container layer and the
// diagnostics all ask it.
namespace urun::userns {

// True unless the process runs in a user namespace other than the host's (read from
// /proc/self/uid_map; true when /proc cannot be read). Root inside rootless Podman's user
// namespace is not the host's root.
bool in_initial_user_namespace();

}  // namespace urun::userns
