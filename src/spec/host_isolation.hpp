#pragma once
// What a config writes into kernel state that namespaces isolate (hostname, domainname,
// sysctls, time offsets, a read-only root) must land in namespaces of the container's own:
// without one the runtime would write into the namespace it shares with the host. Checked by
// validate(), before anything is created; pure (no system calls).
#include <string>
#include <string_view>

#include "spec/spec.hpp"

namespace urun::spec {

// Whether the container has a `type` namespace ("uts", "ipc", "network", "user", "time"...)
// of its own: one it creates, or one it joins by path (whoever names a path chose that
// namespace for the container). The one place that answers this for the planner.
bool has_own_namespace(const Spec& spec, std::string_view type);

// The path below /proc/sys that a linux.sysctl key names, read as sysctl(8) reads it: in a
// dotted key '.' separates components and '/' stands for a '.' inside one
// ("net.ipv4.conf.eth0/1.forwarding" -> "net/ipv4/conf/eth0.1/forwarding"); a key whose first
// separator is '/' is a path already ("net/ipv4/conf/eth0.1/forwarding" stays). Throws Error
// for a key that is empty, holds a NUL, or has an empty, "." or ".." component.
std::string sysctl_path(std::string_view key);

// The namespace type that isolates the sysctl at `path` (a sysctl_path() result): "uts",
// "ipc", "network" or "user"; "" when no namespace does, so a write would reach the host.
std::string_view sysctl_namespace(std::string_view path);

// Throws Error naming the field (`hostname`, `linux.sysctl["net.ipv4.ip_forward"]`...) when the
// config sets something in a namespace it does not own, a sysctl no namespace isolates, a
// sysctl that contradicts hostname/domainname, the same sysctl twice, time offsets without
// a time namespace it creates, or what check_without_mount_namespace refuses when it has no
// mount namespace.
void check_host_isolation(const Spec& spec);

// For a container that shares the host's mount namespace (no "mount" entry, or one joined by
// path that the runtime finds to be its own): refuses root.readonly, whose remount would
// change the host's mount of the rootfs. The rest of what a shared mount namespace rules out
// is skipped or checked in the init (linux/mounts/shared_mount_ns.hpp). Throws Error.
void check_without_mount_namespace(const Spec& spec);

}  // namespace urun::spec
