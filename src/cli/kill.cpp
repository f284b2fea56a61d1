// kill, delete
#include "cli/cli.hpp"

namespace urun::cli {

void add_signal_commands(CLI::App& app, Context& ctx) {
  static std::string kill_id, signal, kill_regex, delete_id, delete_regex;
  static bool all = false, force = false;

  auto* kill =
      app.add_subcommand("kill", "Send a signal to the container's init (default SIGTERM)");
  kill->add_flag("-a,--all", all, "Signal every process of the container");
  kill->add_option("--regex", kill_regex, "Signal every container whose id matches");
  kill->add_option("container", kill_id, "Container id (with --regex: the signal)");
  kill->add_option("signal", signal, "Signal name or number");
  kill->callback([&ctx] {
    ctx.action = [&ctx] {
      if (!kill_regex.empty()) {
        // With --regex the only positional argument is the signal.
        std::string sig = !signal.empty() ? signal : !kill_id.empty() ? kill_id : "SIGTERM";
        in_context("kill", "", [&] { container::kill_matching(ctx.global, kill_regex, sig, all); });
        return 0;
      }
      if (kill_id.empty()) throw Error("kill: a container id is required", EINVAL);
      in_context("kill", kill_id, [&] {
        container::kill(ctx.global, kill_id, signal.empty() ? "SIGTERM" : signal, all);
      });
      return 0;
    };
  });

  auto* del = app.add_subcommand("delete", "Remove a container");
  del->alias("rm");
  del->add_flag("-f,--force", force, "Kill the container first if it is running");
  del->add_option("--regex", delete_regex, "Delete every container whose id matches");
  del->add_option("container", delete_id, "Container id");
  del->callback([&ctx] {
    ctx.action = [&ctx] {
      if (!delete_regex.empty()) {
        in_context("delete", "",
                   [&] { container::remove_matching(ctx.global, delete_regex, force); });
        return 0;
      }
      if (delete_id.empty()) throw Error("delete: a container id is required", EINVAL);
      in_context("delete", delete_id, [&] { container::remove(ctx.global, delete_id, force); });
      return 0;
    };
  });
}

}  // namespace urun::cli
