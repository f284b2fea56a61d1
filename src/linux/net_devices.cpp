#include "linux/net_devices.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sys/stat.h>

#include <optional>
#include <set>

#include "common/error.hpp"
#include "common/log.hpp"
#include "linux/netlink.hpp"

namespace urun::linux {
namespace {

constexpr const char* kField = "linux.netDevices";

[[noreturn]] void fail(const std::string& field, const std::string& why) {
  throw Error(field + ": " + why, EINVAL);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

bool valid_ifname(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  if (name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || (c >= '\t' && c <= '\r')) return false;
  return true;
}

std::vector<NetDevice> parse_net_devices(const spec::Spec& spec) {
  std::vector<NetDevice> out;
  if (!spec.linux || spec.linux->net_devices.is_null()) return out;
  const nlohmann::json& j = spec.linux->net_devices;
  if (!j.is_object()) fail(kField, "must be an object");
  std::set<std::string> names;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string field = std::string(kField) + "[\"" + it.key() + "\"]";
    NetDevice d;
    d.host_name = it.key();
    if (!valid_ifname(d.host_name) || d.host_name.find('%') != std::string::npos)
      fail(field, quote(d.host_name) + " is not a valid network device name");
    if (!it.value().is_object()) fail(field, "must be an object");
    d.name = d.host_name;
    if (auto n = it.value().find("name"); n != it.value().end()) {
      if (!n->is_string()) fail(field + ".name", "must be a string");
      d.name = n->get<std::string>();
      if (!valid_ifname(d.name))
        fail(field + ".name", quote(d.name) + " is not a valid network device name");
    }
    // Two devices cannot both be called so in the container; a template gets a free name.
    if (d.name.find('%') == std::string::npos && !names.insert(d.name).second)
      fail(field + ".name",
           "another device is already named " + quote(d.name) + " in the container");
    out.push_back(std::move(d));
  }
  if (out.empty()) return out;
  const spec::Namespace* ns = spec.linux->find_namespace("network");
  if (!ns)
    fail(kField,
         "requires the container's own network namespace (a \"network\" entry in "
         "linux.namespaces); without one the devices would stay where they are");
  if (!ns->path.empty() && same_file(ns->path, "/proc/self/ns/net"))
    fail(kField, "the network namespace " + quote(ns->path) +
                     " is the runtime's own: the devices would not move");
  return out;
}

void check_net_devices_exist(const std::vector<NetDevice>& devices) {
  if (devices.empty()) return;
  netlink::RouteSocket rt;
  for (const auto& d : devices)
    if (rt.link_index(d.host_name) < 0)
      throw Error(std::string(kField) + ": network device " + quote(d.host_name) +
                      " does not exist in the runtime's network namespace",
                  ENODEV);
}

void move_net_devices_from_parent(const std::vector<NetDevice>& devices, pid_t pid) {
  if (devices.empty()) return;
  const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd netns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) throw_errno("open the container's network namespace " + quote(ns_path));
  netlink::RouteSocket host;
  // Made once the first device has moved, so that the error of a move the kernel refuses names
  // the device rather than the way in.
  std::optional<netlink::RouteSocket> in_container;
  for (const auto& d : devices) {
    const std::string what = "move network device " + quote(d.host_name) + " into the container" +
                             (d.name == d.host_name ? "" : " as " + quote(d.name));
    try {
      int index = host.link_index(d.host_name);
      if (index < 0) throw Error("it does not exist in the runtime's network namespace", ENODEV);
      std::vector<netlink::Address> addresses = host.permanent_global_addresses(index);
      host.move_link(index, netns.get(), d.name);
      if (!in_container) in_container.emplace(netlink::RouteSocket::in_namespace(netns.get()));
      netlink::RouteSocket& container = *in_container;
      // A template's name is the kernel's choice; the kernel keeps the index when it is free
      // in the new namespace, as it is in a new one.
      const bool templated = d.name.find('%') != std::string::npos;
      int moved = templated ? (container.link_name(index).empty() ? -1 : index)
                            : container.link_index(d.name);
      if (moved < 0) throw Error("it cannot be found in the container's namespace", ENODEV);
      for (const auto& a : addresses) container.add_address(moved, a);
      container.set_up(moved);
      if (log::enabled(log::Level::debug))
        log::debug("moved network device " + quote(d.host_name) + " into the container as " +
                   quote(container.link_name(moved)) + " with " + std::to_string(addresses.size()) +
                   " address(es)");
    } catch (Error& e) {
      throw e.prepend(what);
    }
  }
}

}  // namespace urun::linux
