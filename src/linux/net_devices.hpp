#pragma once
// linux.netDevices (runtime-spec 1.3): host network interfaces moved into the container's
// network namespace, renamed as asked, with their permanent global addresses and set up. The
// runtime moves them from its own namespace after the init has made (or joined) the
// container's, before the init may go on. Nothing moves them back: runtime-spec 1.3 forbids it
// ("MUST NOT attempt to move the interface out of the namespace before deletion"); when the
// namespace goes away the kernel returns physical devices to the initial namespace and
// destroys virtual ones (veth, macvlan).
#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "spec/spec.hpp"

namespace urun::linux {

struct NetDevice {
  std::string host_name;  // the entry's key: the name in the runtime's namespace
  std::string name;       // the name in the container (the host name when not given)
};

// The kernel's rule for an interface name (dev_valid_name): 1 to 15 bytes, not "." or "..",
// no '/', ':' or white space. A "%d" template is a valid name.
bool valid_ifname(std::string_view name);

// linux.netDevices as a list, checked as runc checks it and more: valid names, no two devices
// given the same name in the container (templates aside), and the container's own network
// namespace (new, or joined by path) to move them into. Throws Error naming the field.
std::vector<NetDevice> parse_net_devices(const spec::Spec& spec);

// The devices exist in the runtime's network namespace: checked before anything is made.
void check_net_devices_exist(const std::vector<NetDevice>& devices);

// Moves each device into the network namespace of process `pid`, renames it, adds its
// permanent global addresses there again (the kernel drops them on the move) and sets it up.
void move_net_devices_from_parent(const std::vector<NetDevice>& devices, pid_t pid);

}  // namespace urun::linux
