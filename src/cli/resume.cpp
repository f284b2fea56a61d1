// resume
#include "cli/cli.hpp"

namespace urun::cli {

void add_resume_command(CLI::App& app, Context& ctx) {
  add_id_command(app, ctx, "resume", "Resume the processes in the container", container::resume);
}

}  // namespace urun::cli
