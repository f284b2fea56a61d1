// restore (options as in the manual, plus --file-locks and --tcp-close, which Podman passes
// when asked to)
#include "cli/cli.hpp"
#include "container/checkpoint.hpp"

namespace urun::cli {

void add_restore_command(CLI::App& app, Context& ctx) {
  static container::RestoreRequest rs;
  auto* restore = app.add_subcommand("restore", "Restore a container from a checkpoint");
  restore->add_option("-b,--bundle", rs.bundle, "Container bundle directory (default: .)");
  restore->add_option("-f,--config", rs.config, "Configuration file (default: config.json)");
  add_criu_paths(restore, rs, "Path of the CRIU image files");
  restore->add_flag("--tcp-established", rs.tcp_established, "Allow open TCP connections");
  restore->add_flag("--tcp-close", rs.tcp_close, "Close the restored TCP connections");
  restore->add_flag("--ext-unix,--ext-unix-sk", rs.ext_unix_sk, "Allow external UNIX sockets");
  add_criu_job_flags(restore, rs);
  restore->add_flag("-d,--detach", rs.detach, "Detach from the container's process");
  restore->add_option("--pid-file", rs.pid_file, "Where to write the PID of the container");
  restore->add_option("--console-socket", rs.console_socket,
                      "UNIX socket that receives the pty master of a restored terminal");
  add_manage_cgroups_mode(restore, rs);
  restore->add_option("--lsm-profile", rs.lsm_profile,
                      "LSM profile for the restore: apparmor:NAME or selinux:LABEL");
  restore->add_option("--lsm-mount-context", rs.lsm_mount_context,
                      "New LSM mount context for the restored mounts");
  restore->add_option("container", rs.id, "Container id")->required();
  set_action(restore, ctx, [&ctx] {
    return in_context("restore", rs.id, [&] { return container::restore(ctx.global, rs); });
  });
}

}  // namespace urun::cli
