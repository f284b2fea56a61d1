// The order of `urun check` and the caller's context.
#include <grp.h>
#include <unistd.h>

#include "diagnose/check.hpp"
#include "linux/process_attrs.hpp"

namespace urun::diagnose {
namespace {

std::string group_name(gid_t gid) {
  struct group gr;
  struct group* result = nullptr;
  std::string buf(4096, '\0');
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &result) != 0 || !result)
    return std::to_string(gid);
  return gr.gr_name;
}

}  // namespace

Context current_context(const container::GlobalOptions& global) {
  Context ctx;
  ctx.uid = ::geteuid();
  ctx.gid = ::getegid();
  // Root in a user namespace (rootless Podman's) is checked as rootless: it has the
  // rootless limits (no host cgroups, no device nodes).
  ctx.root = ctx.uid == 0 && linux::in_initial_user_namespace();
  ctx.user = userns::user_name(ctx.uid).value_or(std::to_string(ctx.uid));
  ctx.group = group_name(ctx.gid);
  ctx.global = global;
  return ctx;
}

Findings run_checks(const Context& ctx) {
  Findings out;
  check_user_namespaces(ctx, out);
  if (!ctx.root) {
    // Only an unprivileged caller maps through its subordinate ids and newuidmap.
    check_subordinate_ids(ctx, out);
    check_idmap_helpers(ctx, out);
    check_runtime_dir(ctx, out);
  }
  check_state_dir(ctx, out);
  check_cgroups(ctx, out);
  // urun starts a network helper for rootless containers only.
  if (!ctx.root) check_network(ctx, out);
  check_features(ctx, out);
  return out;
}

}  // namespace urun::diagnose
