// mounts add|remove CONTAINER FILE (crun 1.22)
#include "cli/cli.hpp"
#include "container/mounts_update.hpp"

namespace urun::cli {

void add_mounts_command(CLI::App& app, Context& ctx) {
  static std::string add_id, add_file, remove_id, remove_file;
  auto* mounts = app.add_subcommand("mounts", "Add or remove mounts of a running container");
  mounts->require_subcommand(1);

  auto* add = mounts->add_subcommand(
      "add", "Mount the mounts listed in FILE (a JSON array in the config's format) in the container");
  add->add_option("container", add_id, "Container id")->required();
  add->add_option("file", add_file, "JSON file with the mounts (- for standard input)")->required();
  add->callback([&ctx] {
    ctx.action = [&ctx] {
      in_context("mounts add", add_id,
                 [&] { container::add_mounts(ctx.global, add_id, add_file); });
      return 0;
    };
  });

  auto* remove = mounts->add_subcommand(
      "remove", "Unmount what is mounted on the destinations of the mounts listed in FILE");
  remove->add_option("container", remove_id, "Container id")->required();
  remove->add_option("file", remove_file, "JSON file with the mounts (- for standard input)")
      ->required();
  remove->callback([&ctx] {
    ctx.action = [&ctx] {
      in_context("mounts remove", remove_id,
                 [&] { container::remove_mounts(ctx.global, remove_id, remove_file); });
      return 0;
    };
  });
}

}  // namespace urun::cli
