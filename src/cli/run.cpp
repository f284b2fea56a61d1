// run: create + start, in the foreground unless --detach
#include "cli/cli.hpp"

namespace urun::cli {

void add_run_command(CLI::App& app, Context& ctx) {
  static container::CreateRequest req;
  static bool detach = false;
  auto* run = app.add_subcommand("run", "Create and start a container");
  add_create_options(run, req);
  run->add_flag("-d,--detach", detach, "Detach from the container's process");
  run->add_flag("--keep", req.keep, "Do not delete the container after it exits");
  set_action(run, ctx, [&ctx] {
    return in_context("run", req.id, [&] { return container::run(ctx.global, req, detach); });
  });
}

}  // namespace urun::cli
