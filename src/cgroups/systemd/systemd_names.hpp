#pragma once
// The pure parts of the systemd cgroup manager: where a container goes (unit and slice
// from linux.cgroupsPath), unit-name escaping, the cgroup path systemd gives a slice,
// which bus to talk to, and the sub-cgroup annotation. Nothing here touches the system,
// so every rule is unit-tested (tests/unit/cgroups/systemd_names_test.cpp).
//
// cgroupsPath for systemd is "slice:prefix:name", as runc, crun and Podman write it:
//   "machine.slice:libpod:abc" -> unit "libpod-abc.scope" in slice "machine.slice"
//   ":urun:abc"                -> the default slice (system.slice for root, user.slice
//                                 rootless, as runc and crun's users expect)
//   "-.slice:p:n"              -> the root slice
//   "s.slice::abc"             -> unit "abc.scope" (no prefix)
//   absent or ""               -> ":urun:<container id>"
// A '-' in a slice name nests it: "a-b.slice" is a child of "a.slice", so its cgroup is
// /a.slice/a-b.slice. In the unit's prefix and name, a '-' is kept as it is (scopes do
// not nest); characters systemd does not allow in unit names are escaped as \xNN.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace urun::cgroups::systemd {

struct UnitPlace {
  std::string slice;  // "machine.slice"
  std::string unit;   // "libpod-abc.scope"
};

// Whether path has the systemd form: "slice:prefix:name" (exactly two ':').
bool is_systemd_cgroups_path(std::string_view path);

// The slice a container without one goes to.
std::string default_slice(bool rootless);

// Unit and slice for linux.cgroupsPath. Throws urun::Error naming the cgroupsPath when it
// is not usable: not slice:prefix:name, a slice that is not a valid slice name, a name
// with '/', or a name that is itself a slice (a scope is needed to hold processes).
UnitPlace place_from_cgroups_path(const std::optional<std::string>& cgroups_path,
                                  const std::string& container_id, bool rootless);

// Escapes text for use inside a unit name: characters outside [A-Za-z0-9:_.-] (and a
// leading '.') become \xNN, like systemd's unit_name_escape() except that '-' and '/'
// are kept out of it: '-' stays (it means nothing in a scope name) and '/' is refused
// by the callers before.
std::string escape_unit_part(std::string_view text);

// Throws unless slice is a valid slice unit name: "x.slice" with characters systemd
// allows, no leading, trailing or doubled '-' (those would name no parent), or "-.slice".
void check_slice_name(const std::string& slice, const std::string& what);

// "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "" (the root).
// Throws (naming `what`) on an invalid slice name.
std::string expand_slice(const std::string& slice, const std::string& what = "slice");

// A systemd cgroupsPath turned into the cgroup directory systemd would make, for the
// cgroupfs manager when systemd is not available: "machine-x.slice:p:n" ->
// "/machine.slice/machine-x.slice/p-n.scope". A name ending in ".slice" is used as the
// directory itself (prefix ignored). Other paths are returned unchanged.
std::string cgroupfs_path_for(const std::string& cgroups_path, bool rootless);

// The D-Bus address of the systemd instance a container talks to. override: a D-Bus
// address ("unix:path=/x") or a bare socket path; empty picks the default: root -> the
// system bus ($DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket); rootless ->
// the user's bus ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus).
std::string bus_address(const std::string& override, bool rootless,
                        const std::function<const char*(const char*)>& getenv);

// The socket file of a "unix:path=..." address ("" for any other kind of address).
std::string bus_socket_path(const std::string& address);

// run.oci.systemd.subgroup: the sub-cgroup of the scope the container runs in. Absent:
// "container" on cgroup v2, none on v1 (crun's manual). Present and empty: none.
// Throws when the name is not a plain directory name.
std::string subgroup_name(const std::optional<std::string>& annotation, bool unified);

}  // namespace urun::cgroups::systemd
