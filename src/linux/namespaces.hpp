#pragma once
// Namespace names <-> clone flags, and the plan of which namespaces the
// container creates and which it joins, computed by the parent before clone.
#include <string_view>
#include <utility>
#include <vector>

#include "common/unique_fd.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

// CLONE_NEW* for "pid", "network", "mount", "ipc", "uts", "user", "cgroup",
// "time"; 0 when unknown.
int namespace_flag(std::string_view type);
// Every type urun creates and joins: what `features` lists.
std::vector<std::string_view> namespace_types();
// "/proc/self/ns/<name>" file name for a flag ("net" for network).
const char* namespace_proc_name(int flag);

struct NamespacePlan {
  int clone_flags = 0;    // created by clone() itself
  int unshare_flags = 0;  // created by unshare() in the child (time, cgroup, and all when a
                          // user namespace is joined)
  // Namespaces to join with setns(), user namespace first: the others must be
  // joined with the privileges it grants.
  std::vector<std::pair<int, UniqueFd>> join;
  bool new_user = false;
  // The init must fork once more: a joined pid namespace or an unshared
  // pid/time namespace only applies to children of the caller.
  bool needs_fork = false;
  bool new_net = false;
  bool new_cgroup = false;
  // The container has a mount namespace of its own: a new one, or one joined by path that is
  // not the runtime's. Without one it inherits the runtime's (runtime-spec: an absent type is
  // shared with the runtime), whose mount table the init must never change: it makes no
  // mounts and enters the rootfs by chroot (linux/mounts/shared_mount_ns.hpp).
  bool own_mount = false;
  // A "mount" entry named a path that is the runtime's own mount namespace: treated as
  // absent (joining it would change nothing, and pivot_root there would move the root of
  // every process that shares it).
  bool joined_runtime_mount = false;
};

// Opens every namespace path (O_RDONLY|O_CLOEXEC), checks that it is a
// namespace of the stated type, and splits the rest into clone/unshare flags.
// add_user_namespace: rootless run without a user namespace in the config.
// Throws Error naming the path, also for a mount namespace joined by path while the
// container creates a user namespace (which would have no rights over it).
NamespacePlan plan_namespaces(const std::vector<spec::Namespace>& namespaces,
                              bool add_user_namespace);

}  // namespace urun::linux
