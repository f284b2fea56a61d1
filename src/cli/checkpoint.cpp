// checkpoint, restore (options as in the manual, plus --file-locks and
// --tcp-close, which Podman passes when asked to).
#include "container/checkpoint.hpp"

#include "cli/cli.hpp"

namespace urun::cli {
namespace {

const char* kModeHelp = "CRIU cgroup mode: soft, ignore, full or strict (default: soft)";

}  // namespace

void add_checkpoint_commands(CLI::App& app, Context& ctx) {
  static container::CheckpointRequest cp;
  static container::RestoreRequest rs;
  const auto modes = CLI::IsMember({"soft", "ignore", "full", "strict"});

  auto* checkpoint = app.add_subcommand("checkpoint", "Checkpoint a running container using CRIU");
  checkpoint->add_option("--image-path", cp.image_path, "Path for saving CRIU image files");
  checkpoint->add_option("--work-path", cp.work_path, "Path for saving work files and logs");
  checkpoint->add_flag("--leave-running", cp.leave_running,
                       "Leave the process running after checkpointing");
  checkpoint->add_flag("--tcp-established", cp.tcp_established, "Allow open TCP connections");
  checkpoint->add_flag("--ext-unix-sk", cp.ext_unix_sk, "Allow external UNIX sockets");
  checkpoint->add_flag("--shell-job", cp.shell_job, "Allow shell jobs");
  checkpoint->add_flag("--file-locks", cp.file_locks, "Allow file locks");
  checkpoint->add_flag("--pre-dump", cp.pre_dump,
                       "Only checkpoint the container's memory without stopping it");
  checkpoint->add_option("--parent-path", cp.parent_path,
                         "Path of the previous pre-dump, relative to the image path");
  checkpoint->add_option("--manage-cgroups-mode", cp.manage_cgroups_mode, kModeHelp)->check(modes);
  checkpoint->add_option("container", cp.id, "Container id")->required();
  checkpoint->callback([&ctx] {
    ctx.action = [&ctx] {
      in_context("checkpoint", cp.id, [&] { container::checkpoint(ctx.global, cp); });
      return 0;
    };
  });

  auto* restore = app.add_subcommand("restore", "Restore a container from a checkpoint");
  restore->add_option("-b,--bundle", rs.bundle, "Container bundle directory (default: .)");
  restore->add_option("-f,--config", rs.config, "Configuration file (default: config.json)");
  restore->add_option("--image-path", rs.image_path, "Path of the CRIU image files");
  restore->add_option("--work-path", rs.work_path, "Path for saving work files and logs");
  restore->add_flag("--tcp-established", rs.tcp_established, "Allow open TCP connections");
  restore->add_flag("--tcp-close", rs.tcp_close, "Close the restored TCP connections");
  restore->add_flag("--ext-unix,--ext-unix-sk", rs.ext_unix_sk, "Allow external UNIX sockets");
  restore->add_flag("--shell-job", rs.shell_job, "Allow shell jobs");
  restore->add_flag("--file-locks", rs.file_locks, "Allow file locks");
  restore->add_flag("-d,--detach", rs.detach, "Detach from the container's process");
  restore->add_option("--pid-file", rs.pid_file, "Where to write the PID of the container");
  restore->add_option("--console-socket", rs.console_socket,
                      "UNIX socket that receives the pty master of a restored terminal");
  restore->add_option("--manage-cgroups-mode", rs.manage_cgroups_mode, kModeHelp)->check(modes);
  restore->add_option("--lsm-profile", rs.lsm_profile,
                      "LSM profile for the restore: apparmor:NAME or selinux:LABEL");
  restore->add_option("--lsm-mount-context", rs.lsm_mount_context,
                      "New LSM mount context for the restored mounts");
  restore->add_option("container", rs.id, "Container id")->required();
  restore->callback([&ctx] {
    ctx.action = [&ctx] {
      return in_context("restore", rs.id, [&] { return container::restore(ctx.global, rs); });
    };
  });
}

}  // namespace urun::cli
