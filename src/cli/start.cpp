// start
#include "cli/cli.hpp"

namespace urun::cli {

void add_start_command(CLI::App& app, Context& ctx) {
  add_id_command(app, ctx, "start", "Start a created container", container::start);
}

}  // namespace urun::cli
