// pause
#include "cli/cli.hpp"

namespace urun::cli {

void add_pause_command(CLI::App& app, Context& ctx) {
  add_id_command(app, ctx, "pause", "Pause all the processes in the container", container::pause);
}

}  // namespace urun::cli
