#pragma once
// linux.devices for a container whose root is root of a user namespace: it may not mknod a real
// device, and binding the host's node needs one at the same path. crun's answer, followed here:
// the runtime, root on the host, makes each node itself in a tmpfs of a mount namespace of its
// own, and hands the init a detached bind mount of it (nosuid, noexec, private), which the init
// moves onto the device's path (linux/devices.hpp). A runtime without privileges on the host can
// make no node anywhere: its init binds the host's nodes, and a device the host lacks fails.
#include <vector>

#include "common/unique_fd.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

// Per spec.linux->devices entry: a detached mount of a new node with the entry's type, numbers
// and mode, owned by the host ids its uid and gid map to through `uid_mappings`/`gid_mappings`
// (the overflow id 65534 when unmapped); an empty fd for a fifo, which the init makes itself.
// Runs in the runtime before clone; leaves its mount namespace and working directory as they
// were. Throws Error("create device `/dev/x`: ...").
std::vector<UniqueFd> make_device_nodes(const spec::Spec& spec,
                                        const std::vector<spec::IdMapping>& uid_mappings,
                                        const std::vector<spec::IdMapping>& gid_mappings);

}  // namespace urun::linux
