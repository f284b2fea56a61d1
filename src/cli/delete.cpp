// delete (rm)
#include "cli/cli.hpp"

namespace urun::cli {

void add_delete_command(CLI::App& app, Context& ctx) {
  static std::string id, regex;
  static bool force = false;
  auto* del = app.add_subcommand("delete", "Remove a container");
  del->alias("rm");
  del->add_flag("-f,--force", force, "Kill the container first if it is running");
  del->add_option("--regex", regex, "Delete every container whose id matches");
  del->add_option("container", id, "Container id");
  set_action(del, ctx, [&ctx] {
    if (!regex.empty()) {
      in_context("delete", "", [&] { container::remove_matching(ctx.global, regex, force); });
      return 0;
    }
    if (id.empty()) throw Error("delete: a container id is required", EINVAL);
    in_context("delete", id, [&] { container::remove(ctx.global, id, force); });
    return 0;
  });
}

}  // namespace urun::cli
