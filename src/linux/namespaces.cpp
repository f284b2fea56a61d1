#include "linux/namespaces.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "common/error.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace urun::linux {

int namespace_flag(std::string_view type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return 0;
}

std::vector<std::string_view> namespace_types() {
  // The runtime-spec's names in its order; each has a flag above (a unit test checks it).
  return {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
}

const char* namespace_proc_name(int flag) {
  switch (flag) {
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWNET:
      return "net";
    case CLONE_NEWNS:
      return "mnt";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWTIME:
      return "time";
  }
  return "?";
}

namespace {

// Whether the namespace file open at `fd` is the one this process is in.
bool is_own_namespace(int fd, const char* proc_name) {
  struct stat joined {
  }, own{};
  std::string own_path = std::string("/proc/self/ns/") + proc_name;
  if (::fstat(fd, &joined) < 0) throw_errno("stat a namespace file");
  if (::stat(own_path.c_str(), &own) < 0) throw_errno("stat " + quote(own_path));
  return joined.st_dev == own.st_dev && joined.st_ino == own.st_ino;
}

}  // namespace

NamespacePlan plan_namespaces(const std::vector<spec::Namespace>& namespaces,
                              bool add_user_namespace) {
  NamespacePlan plan;
  int new_flags = 0;
  bool join_user = false;
  std::string joined_mount;
  for (const auto& ns : namespaces) {
    int flag = namespace_flag(ns.type);
    if (flag == 0) throw Error("unknown namespace type " + quote(ns.type));
    if (ns.path.empty()) {
      new_flags |= flag;
      continue;
    }
    UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + ns.type + " namespace " + quote(ns.path));
    // NS_GET_NSTYPE tells what the file really is: a config naming a net
    // namespace as "pid" must fail here, not half-way through set-up.
    int actual = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (actual < 0) throw_errno("open " + ns.type + " namespace " + quote(ns.path));
    if (actual != flag)
      throw Error(
          "join " + ns.type + " namespace " + quote(ns.path) + ": not a " + ns.type + " namespace",
          EINVAL);
    if (flag == CLONE_NEWUSER) join_user = true;
    if (flag == CLONE_NEWPID) plan.needs_fork = true;
    if (flag == CLONE_NEWNS) {
      if (is_own_namespace(fd.get(), "mnt")) {
        plan.joined_runtime_mount = true;
        continue;
      }
      plan.own_mount = true;
      joined_mount = ns.path;
    }
    plan.join.emplace_back(flag, std::move(fd));
  }
  if (add_user_namespace && !join_user) new_flags |= CLONE_NEWUSER;
  if (!joined_mount.empty() && (new_flags & CLONE_NEWUSER)) {
    // setns() of a mount namespace needs CAP_SYS_ADMIN in the user namespace that owns it,
    // and a user namespace made for the container owns nothing yet.
    throw Error("join mount namespace " + quote(joined_mount) +
                    ": the container's new user namespace has no rights over it; join the "
                    "user namespace that owns it by path too",
                EPERM);
  }
  if (new_flags & CLONE_NEWNS) plan.own_mount = true;
  // setns into the user namespace must come first.
  std::stable_partition(plan.join.begin(), plan.join.end(),
                        [](const auto& j) { return j.first == CLONE_NEWUSER; });

  plan.new_user = (new_flags & CLONE_NEWUSER) != 0;
  plan.new_net = (new_flags & CLONE_NEWNET) != 0;
  plan.new_cgroup = (new_flags & CLONE_NEWCGROUP) != 0;
  // The cgroup namespace is unshared only after the parent has placed the
  // init in its cgroup, so the container's cgroup becomes its root. A time
  // namespace can only be unshared (clone() has no room for its flag), and
  // its offsets must be written before any process enters it.
  plan.unshare_flags = new_flags & (CLONE_NEWCGROUP | CLONE_NEWTIME);
  plan.clone_flags = new_flags & ~plan.unshare_flags;
  if (join_user) {
    // Namespaces made by clone() would belong to our own user namespace, not
    // to the joined one: create them after setns() instead.
    plan.unshare_flags |= plan.clone_flags;
    plan.clone_flags = 0;
  }
  if ((plan.unshare_flags & (CLONE_NEWPID | CLONE_NEWTIME)) != 0) plan.needs_fork = true;
  if (plan.needs_fork && (plan.clone_flags & CLONE_NEWPID)) {
    // The process that forks the real init must not be pid 1 of the new pid
    // namespace (its exit would kill the namespace) and must see the init's
    // pid as the parent does: it unshares the pid namespace instead, which
    // only its children enter.
    plan.clone_flags &= ~CLONE_NEWPID;
    plan.unshare_flags |= CLONE_NEWPID;
  }
  return plan;
}

}  // namespace urun::linux
