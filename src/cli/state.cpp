// state
#include <unistd.h>

#include "cli/cli.hpp"
#include "common/fs.hpp"

namespace urun::cli {

void add_state_command(CLI::App& app, Context& ctx) {
  static std::string id;
  auto* state = app.add_subcommand("state", "Output the state of a container");
  state->add_option("container", id, "Container id")->required();
  set_action(state, ctx, [&ctx] {
    std::string out = in_context("state", id, [&] { return container::state(ctx.global, id); });
    fs::write_all(STDOUT_FILENO, out + "\n");
    return 0;
  });
}

}  // namespace urun::cli
