#include "runtime/idmapped_mounts.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <optional>

#include "common/error.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/idmap_mount.hpp"
#include "linux/mounts/mounts.hpp"
#include "runtime/id_maps.hpp"
#include "userns/holder.hpp"
#include "userns/idmap_option.hpp"

namespace urun::runtime {
namespace {

// The mount's own user namespace; its errors (newuidmap refusing host ids) name the mount.
void make_holder(std::optional<userns::UsernsHolder>& holder,
                 const std::vector<userns::Mapping>& uids, const std::vector<userns::Mapping>& gids,
                 const std::string& what) {
  try {
    holder.emplace(uids, gids);
  } catch (Error& e) {
    throw e.prepend(what);
  }
}

}  // namespace

UniqueFd own_user_namespace_of(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
  UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) throw_errno("open " + quote(path));
  struct stat theirs {
  }, ours{};
  if (::fstat(ns.get(), &theirs) < 0 || ::stat("/proc/self/ns/user", &ours) < 0)
    throw_errno("stat the user namespace of " + std::to_string(pid));
  if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev) return {};
  return ns;
}

UniqueFd make_mount_idmapped_tree(const spec::Mount& m, const IdmapContext& ctx) {
  const linux::MountOptions opts = linux::parse_mount_options(m.options);
  if (!linux::is_idmapped(m, opts)) return {};
  const std::string what = "mount " + quote(m.source) + " on " + quote(m.destination);
  // Checked by spec::validate too; `mounts add` reaches here with its own list.
  if (!linux::is_bind_mount(m, opts))
    throw Error(what + ": id-mapped mounts are supported on bind mounts only", EINVAL);
  std::optional<userns::UsernsHolder> holder;
  int ns_fd = ctx.container_userns;
  if (!m.uid_mappings.empty() || !m.gid_mappings.empty()) {
    if (m.uid_mappings.empty() || m.gid_mappings.empty())
      throw Error(what + ": uidMappings and gidMappings must be given together", EINVAL);
    std::vector<userns::Mapping> uids = to_userns_mappings(m.uid_mappings);
    std::vector<userns::Mapping> gids = to_userns_mappings(m.gid_mappings);
    // The container's own namespace already has these maps: no namespace to make.
    if (ctx.container_userns < 0 || uids != ctx.uids || gids != ctx.gids) {
      make_holder(holder, uids, gids, what);
      ns_fd = holder->ns_fd();
    }
  } else {
    userns::IdmapSpec idmap = userns::parse_idmap_option(
        opts.idmap_spec.empty() ? "idmap" : "idmap=" + opts.idmap_spec, ctx.uids, ctx.gids);
    if (idmap.has_custom) {
      make_holder(holder, idmap.uids, idmap.gids, what);
      ns_fd = holder->ns_fd();
    } else if (ns_fd < 0) {
      throw Error(
          what +
              ": a bare idmap maps through the container's user namespace, and the "
              "container has none (give uidMappings/gidMappings or idmap=uids=...;gids=...)",
          EINVAL);
    }
  }
  const std::string source = m.source.starts_with('/') ? m.source : ctx.bundle + "/" + m.source;
  return linux::make_idmapped_tree(source, ns_fd, opts.idmap_recursive || opts.rbind(),
                                   opts.src_nofollow, what);
}

}  // namespace urun::runtime
