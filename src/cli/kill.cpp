// kill
#include "cli/cli.hpp"

namespace urun::cli {

void add_kill_command(CLI::App& app, Context& ctx) {
  static std::string id, signal, regex;
  static bool all = false;
  auto* kill =
      app.add_subcommand("kill", "Send a signal to the container's init (default SIGTERM)");
  kill->add_flag("-a,--all", all, "Signal every process of the container");
  kill->add_option("--regex", regex, "Signal every container whose id matches");
  kill->add_option("container", id, "Container id (with --regex: the signal)");
  kill->add_option("signal", signal, "Signal name or number");
  set_action(kill, ctx, [&ctx] {
    if (!regex.empty()) {
      // With --regex the only positional argument is the signal.
      std::string sig = !signal.empty() ? signal : !id.empty() ? id : "SIGTERM";
      in_context("kill", "", [&] { container::kill_matching(ctx.global, regex, sig, all); });
      return 0;
    }
    if (id.empty()) throw Error("kill: a container id is required", EINVAL);
    in_context("kill", id,
               [&] { container::kill(ctx.global, id, signal.empty() ? "SIGTERM" : signal, all); });
    return 0;
  });
}

}  // namespace urun::cli
