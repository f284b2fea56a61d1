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
};

// Opens every namespace path (O_RDONLY|O_CLOEXEC), checks that it is a
// namespace of the stated type, and splits the rest into clone/unshare flags.
// add_user_namespace: rootless run without a user namespace in the config.
// Throws Error naming the path.
NamespacePlan plan_namespaces(const std::vector<spec::Namespace>& namespaces,
                              bool add_user_namespace);

}  // namespace urun::linux
