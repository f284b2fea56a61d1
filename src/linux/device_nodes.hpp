#pragma once
// linux.devices for a container whose root is root of a user namespace: it may not mknod a real
// device, and binding the host's node needs one at the same path. What crun (1.8 to 1.2x) does
// for an entry, and urun follows: without a user namespace the init mknods it in the rootfs; as
// root with a user namespace the runtime makes every entry's node itself (prepare_and_send_dev_
// mounts: a tmpfs in a mount namespace of its own, mknod, chown to the mapped owner, open_tree)
// and the init moves that detached mount, nosuid and noexec, onto the path, so a node the host
// lacks works; an unprivileged runtime can make no node anywhere, so its init binds the host's
// node of the same path, and an entry the host lacks fails naming the device.
#include <vector>

#include "common/unique_fd.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

// Per spec.linux->devices entry: a detached mount of a new node with the entry's type, numbers
// and mode, owned by the host ids its uid and gid map to through `uid_mappings`/`gid_mappings`
// (the overflow id 65534 when unmapped); an empty fd for a fifo, which the init makes itself.
// Runs in the runtime before clone; leaves its mount namespace and working directory as they
// were. Throws Error("create device `/dev/x`: ...").
std::vector<UniqueFd> make_device_nodes_from_parent(
    const spec::Spec& spec, const std::vector<spec::IdMapping>& uid_mappings,
    const std::vector<spec::IdMapping>& gid_mappings);

}  // namespace urun::linux
