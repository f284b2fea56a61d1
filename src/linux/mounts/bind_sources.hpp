#pragma once
// Host paths a container in a user namespace must reach: the rootfs and the sources of its bind
// mounts. Once the init has taken its namespace's ids it may be an unprivileged host id (Podman's
// `--uidmap 0:100000:65536`) that cannot look them up: Podman keeps /etc/hosts and the like in a
// 0700 bundle. So the init opens them first, while it still has the caller's credentials
// (open_host_paths_in_child), and mounts from those fds. What even that cannot open (a directory
// root enters only through CAP_DAC_OVERRIDE) a privileged runtime clones for it (clone_bind_source)
// and sends over the sync socket, as crun does. Without a user namespace the init keeps all its
// privileges and opens each source when it mounts it: nothing is opened early.
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"
#include "linux/mounts/mounts.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

// Whether spec mount `m` (options `opts`) is a bind mount: the only mounts with a host source.
bool is_bind_mount(const spec::Mount& m, const MountOptions& opts);

// The source of bind mount `m`, opened O_PATH (the link itself for copy-symlink). Relative
// sources resolve from the working directory: the bundle. Returns an empty fd with errno set.
UniqueFd open_bind_source(const spec::Mount& m, const MountOptions& opts);

struct HostPaths {
  UniqueFd rootfs;                     // O_PATH of the rootfs directory; empty if it failed
  std::vector<UniqueFd> bind_sources;  // by spec mount index; empty: not a bind, or it failed
  // Bind mounts whose source the init was refused (EACCES, EPERM): the runtime may clone them.
  std::vector<size_t> refused;
};

// In the init, before it takes its user namespace's ids. A path it fails to open here is looked
// up again when it is mounted, as the namespace's root: it may be allowed in then (a directory
// owned by the mapped root), and if not, that failure is the one reported.
HostPaths open_host_paths_in_child(const spec::Spec& spec, const std::string& rootfs);

// "1,4" and back, for the sync message that carries HostPaths::refused. decode_indices throws
// Error(EPROTO) on anything but indices below `count`.
std::string encode_indices(const std::vector<size_t>& indices);
std::vector<size_t> decode_indices(std::string_view text, size_t count);

// In the runtime, never the init: the parent for a source its init was refused, and `urun mounts
// add`. Needs root of the mount namespace's user namespace. Returns a detached copy of bind mount
// `m`'s source (recursive for rbind), relative sources taken from `bundle`. The copy is made a
// slave, never a peer, of a shared host mount: that is what the init's own bind would be, since
// a mount namespace made with a user namespace receives the host's shared mounts as slaves, and a
// peer would let the container's root propagate mounts onto the host. Throws Error naming `what`.
UniqueFd clone_bind_source(const spec::Mount& m, const std::string& bundle,
                           const std::string& what);

}  // namespace urun::linux
