// create
#include "cli/cli.hpp"

namespace urun::cli {

void add_create_options(CLI::App* cmd, container::CreateRequest& req) {
  cmd->add_option("-b,--bundle", req.bundle, "Path to the OCI bundle (default: current directory)");
  cmd->add_option("-f,--config", req.config, "Configuration file (default: config.json)");
  cmd->add_option("--pid-file", req.pid_file, "File to write the container process pid to");
  cmd->add_option("--console-socket", req.console_socket,
                  "UNIX socket that receives the pty master of the container");
  cmd->add_option("--pidfd-socket", req.pidfd_socket,
                  "UNIX socket that receives a pidfd of the container's init");
  cmd->add_flag("--no-pivot", req.no_pivot, "Use chroot instead of pivot_root (unsafe)");
  cmd->add_flag("--no-new-keyring", req.no_new_keyring, "Keep the caller's session keyring");
  cmd->add_option("--preserve-fds", req.preserve_fds, "Additional fds to pass into the container")
      ->check(CLI::NonNegativeNumber);
  // crun: "do not create a subreaper process (ignored)". urun needs none of its own.
  static bool no_subreaper = false;
  cmd->add_flag("--no-subreaper", no_subreaper, "Accepted for compatibility; ignored (as crun)");
  cmd->add_option("container", req.id, "Container id")->required();
}

void add_create_command(CLI::App& app, Context& ctx) {
  static container::CreateRequest req;
  auto* create = app.add_subcommand("create", "Create a container");
  add_create_options(create, req);
  set_action(create, ctx, [&ctx] {
    in_context("create", req.id, [&] { container::create(ctx.global, req); });
    return 0;
  });
}

}  // namespace urun::cli
