#pragma once
// The command line: each command file registers a CLI11 subcommand that fills
// a request struct and, when chosen, sets Context::action to one core call.
#include <functional>
#include <string>

#include "cli/cli11.hpp"
#include "common/error.hpp"
#include "container/commands.hpp"

namespace urun::container {
struct CriuRequest;
}  // namespace urun::container

namespace urun::cli {

struct Context {
  container::GlobalOptions global;
  // What the chosen command does; returns the process exit status.
  std::function<int()> action;
};

// The command argv names, or every command when it names none (help, errors) in the order
// `urun --help` lists them (cli/commands.cpp), after the main app's own options. A command's
// options and action are in the file named after it: cli/delete.cpp for `delete`.
void add_commands(CLI::App& app, Context& ctx, int argc, char** argv);

void add_create_command(CLI::App& app, Context& ctx);
void add_run_command(CLI::App& app, Context& ctx);
void add_start_command(CLI::App& app, Context& ctx);
void add_state_command(CLI::App& app, Context& ctx);
void add_list_command(CLI::App& app, Context& ctx);
void add_kill_command(CLI::App& app, Context& ctx);
void add_delete_command(CLI::App& app, Context& ctx);
void add_spec_command(CLI::App& app, Context& ctx);
void add_features_command(CLI::App& app, Context& ctx);
void add_pause_command(CLI::App& app, Context& ctx);
void add_resume_command(CLI::App& app, Context& ctx);
void add_ps_command(CLI::App& app, Context& ctx);
void add_update_command(CLI::App& app, Context& ctx);
void add_exec_command(CLI::App& app, Context& ctx);
void add_mounts_command(CLI::App& app, Context& ctx);
void add_checkpoint_command(CLI::App& app, Context& ctx);
void add_restore_command(CLI::App& app, Context& ctx);
void add_check_command(CLI::App& app, Context& ctx);

// The options create and run share (cli/create.cpp).
void add_create_options(CLI::App* cmd, container::CreateRequest& request);

// When `cmd` is chosen, `action` is what runs; it returns the exit status.
void set_action(CLI::App* cmd, Context& ctx, std::function<int()> action);

// A command whose one argument is the container id and whose core call returns nothing
// (start, pause, resume): exit status 0.
using IdOperation = void (*)(const container::GlobalOptions&, const std::string&);
void add_id_command(CLI::App& app, Context& ctx, const char* name, const char* help,
                    IdOperation op);

// What checkpoint and restore share (cli/checkpoint.cpp): --image-path and --work-path,
// and --shell-job and --file-locks.
void add_criu_paths(CLI::App* cmd, container::CriuRequest& request, const char* image_help);
void add_criu_job_flags(CLI::App* cmd, container::CriuRequest& request);
// --manage-cgroups-mode
void add_manage_cgroups_mode(CLI::App* cmd, container::CriuRequest& request);

// For main (cli/startup.cpp): the --version text, and what runs after parsing, before the
// chosen command (the sealed binary for the commands that put urun into a container).
std::string version_text();
void before_command(const CLI::App& app, char** argv);
// First thing in main: the sealed-binary re-exec before any parsing (container/commands.hpp).
void before_parsing(int argc, char** argv) noexcept;

// Runs op; an Error gets "<command> `<id>`" in front, so every message names
// the container: "create `foo`: mount `proc` on `/proc`: Operation not permitted".
template <typename F>
auto in_context(const std::string& command, const std::string& id, F&& op) {
  try {
    return op();
  } catch (Error& e) {
    e.prepend(id.empty() ? command : command + " " + quote(id));
    throw;
  }
}

}  // namespace urun::cli
