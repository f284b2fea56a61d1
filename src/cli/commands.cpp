// The command list and what the command files share.
#include <deque>
#include <string_view>

#include "cli/cli.hpp"

namespace urun::cli {

namespace {

struct Command {
  const char* name;
  const char* alias;  // nullptr: none
  void (*add)(CLI::App&, Context&);
};

// In the order `urun --help` lists them.
constexpr Command kCommands[] = {
    {"create", nullptr, add_create_command},
    {"run", nullptr, add_run_command},
    {"start", nullptr, add_start_command},
    {"state", nullptr, add_state_command},
    {"list", "ls", add_list_command},
    {"kill", nullptr, add_kill_command},
    {"delete", "rm", add_delete_command},
    {"spec", nullptr, add_spec_command},
    {"features", nullptr, add_features_command},
    {"pause", nullptr, add_pause_command},
    {"resume", nullptr, add_resume_command},
    {"ps", nullptr, add_ps_command},
    {"update", nullptr, add_update_command},
    {"exec", nullptr, add_exec_command},
    {"mounts", nullptr, add_mounts_command},
    {"checkpoint", nullptr, add_checkpoint_command},
    {"restore", nullptr, add_restore_command},
    {"check", nullptr, add_check_command},
};

// The word of argv where CLI11 will find the command: the first one that is neither an
// option of the main app nor the value of one. Empty when there is none, or when a help or
// version flag, an unknown option or `--` comes first.
std::string_view command_word(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') return arg;
    if (arg == "--") return {};
    if (arg.find('=') != std::string_view::npos) continue;  // --root=DIR
    const CLI::Option* opt = app.get_option_no_throw(std::string(arg));
    if (opt == nullptr || opt == app.get_help_ptr() || opt == app.get_version_ptr()) return {};
    if (opt->get_expected_min() > 0) ++i;  // its value
  }
  return {};
}

}  // namespace

void add_commands(CLI::App& app, Context& ctx, int argc, char** argv) {
  // Only the command asked for: building all 18 with their options (hundreds of strings and
  // Option objects) costs every urun process, a container's start included, more than the
  // parse itself. Help, an unknown command and a parse error see them all.
  const std::string_view word = command_word(app, argc, argv);
  for (const Command& c : kCommands) {
    if (word == c.name || (c.alias != nullptr && word == c.alias)) {
      c.add(app, ctx);
      return;
    }
  }
  for (const Command& c : kCommands) c.add(app, ctx);
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
