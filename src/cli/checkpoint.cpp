// checkpoint (options as in the manual, plus --file-locks, which Podman passes when asked to)
#include "container/checkpoint.hpp"

#include "cli/cli.hpp"

namespace urun::cli {

void add_checkpoint_command(CLI::App& app, Context& ctx) {
  static container::CheckpointRequest cp;

  auto* checkpoint = app.add_subcommand("checkpoint", "Checkpoint a running container using CRIU");
  add_criu_paths(checkpoint, cp, "Path for saving CRIU image files");
  checkpoint->add_flag("--leave-running", cp.leave_running,
                       "Leave the process running after checkpointing");
  checkpoint->add_flag("--tcp-established", cp.tcp_established, "Allow open TCP connections");
  checkpoint->add_flag("--ext-unix-sk", cp.ext_unix_sk, "Allow external UNIX sockets");
  add_criu_job_flags(checkpoint, cp);
  checkpoint->add_flag("--pre-dump", cp.pre_dump,
                       "Only checkpoint the container's memory without stopping it");
  checkpoint->add_option("--parent-path", cp.parent_path,
                         "Path of the previous pre-dump, relative to the image path");
  add_manage_cgroups_mode(checkpoint, cp);
  checkpoint->add_option("container", cp.id, "Container id")->required();
  set_action(checkpoint, ctx, [&ctx] {
    in_context("checkpoint", cp.id, [&] { container::checkpoint(ctx.global, cp); });
    return 0;
  });
}

void add_criu_paths(CLI::App* cmd, container::CriuRequest& req, const char* image_help) {
  cmd->add_option("--image-path", req.image_path, image_help);
  cmd->add_option("--work-path", req.work_path, "Path for saving work files and logs");
}

void add_criu_job_flags(CLI::App* cmd, container::CriuRequest& req) {
  cmd->add_flag("--shell-job", req.shell_job, "Allow shell jobs");
  cmd->add_flag("--file-locks", req.file_locks, "Allow file locks");
}

void add_manage_cgroups_mode(CLI::App* cmd, container::CriuRequest& req) {
  cmd->add_option("--manage-cgroups-mode", req.manage_cgroups_mode,
                  "CRIU cgroup mode: soft, ignore, full or strict (default: soft)")
      ->check(CLI::IsMember({"soft", "ignore", "full", "strict"}));
}

}  // namespace urun::cli
