// The command list and what the command files share.
#include <deque>

#include "cli/cli.hpp"

namespace urun::cli {

void add_commands(CLI::App& app, Context& ctx) {
  add_create_command(app, ctx);
  add_run_command(app, ctx);
  add_start_command(app, ctx);
  add_state_command(app, ctx);
  add_list_command(app, ctx);
  add_kill_command(app, ctx);
  add_delete_command(app, ctx);
  add_spec_command(app, ctx);
  add_features_command(app, ctx);
  add_pause_command(app, ctx);
  add_resume_command(app, ctx);
  add_ps_command(app, ctx);
  add_update_command(app, ctx);
  add_exec_command(app, ctx);
  add_mounts_command(app, ctx);
  add_checkpoint_command(app, ctx);
  add_restore_command(app, ctx);
  add_check_command(app, ctx);
}

void set_action(CLI::App* cmd, Context& ctx, std::function<int()> action) {
  cmd->callback([&ctx, action = std::move(action)] { ctx.action = action; });
}

void add_id_command(CLI::App& app, Context& ctx, const char* name, const char* help,
                    IdOperation op) {
  // One string per command that lives as long as the program: CLI11 fills it while parsing.
  static std::deque<std::string> ids;
  std::string* id = &ids.emplace_back();
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("container", *id, "Container id")->required();
  set_action(cmd, ctx, [&ctx, name, id, op] {
    in_context(name, *id, [&] { op(ctx.global, *id); });
    return 0;
  });
}

CLI::Validator manage_cgroups_modes() {
  return CLI::IsMember({"soft", "ignore", "full", "strict"});
}

}  // namespace urun::cli
