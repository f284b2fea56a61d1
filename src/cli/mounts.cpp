// mounts add|remove CONTAINER FILE (crun 1.22)
#include "container/mounts.hpp"

#include "cli/cli.hpp"

namespace urun::cli {

void add_mounts_command(CLI::App& app, Context& ctx) {
  static std::string verb, id, file;
  // Positionals as crun has them ("mounts [add|remove] CONTAINER FILE"), so that an unknown verb
  // is named in the error instead of reported as a missing subcommand.
  auto* mounts = app.add_subcommand(
      "mounts",
      "Add (add) or remove (remove) the mounts listed in FILE (a JSON array in the config's "
      "`mounts` format, - for standard input) in a running container");
  mounts->add_option("action", verb, "add or remove")->required();
  mounts->add_option("container", id, "Container id")->required();
  mounts->add_option("file", file, "JSON file with the mounts")->required();
  set_action(mounts, ctx, [&ctx] {
    if (verb != "add" && verb != "remove")
      throw Error("mounts: unknown action " + quote(verb) + " (add or remove)", EINVAL);
    in_context("mounts " + verb, id, [&] {
      if (verb == "add") {
        container::add_mounts(ctx.global, id, file);
      } else {
        container::remove_mounts(ctx.global, id, file);
      }
    });
    return 0;
  });
}

}  // namespace urun::cli
