// Commands whose options are accepted but whose work is not in this build yet.
// They fail with a clear message, `--help` included: Podman probes for
// checkpoint support with `checkpoint --help` and takes exit status 0 as a yes,
// so failing it makes `podman container checkpoint` say the runtime does not
// support it instead of failing half-way.
#include "cli/cli.hpp"

namespace urun::cli {

void add_unimplemented_commands(CLI::App& app, Context& ctx) {
  struct Pending {
    const char* name;
    const char* help;
  };
  static const Pending kPending[] = {
      {"checkpoint", "Checkpoint a running container using CRIU"},
      {"restore", "Restore a container from a checkpoint"},
  };
  for (const auto& p : kPending) {
    auto* cmd = app.add_subcommand(p.name, p.help);
    cmd->allow_extras();
    cmd->set_help_flag();  // --help arrives as an extra and fails like any call
    std::string name = p.name;
    cmd->callback([&ctx, name] {
      ctx.action = [name]() -> int {
        throw Error(name + ": not supported by this build of urun yet", ENOSYS);
      };
    });
  }
}

}  // namespace urun::cli
