#pragma once
// The command line: each command file registers a CLI11 subcommand that fills
// a request struct and, when chosen, sets Context::action to one core call.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "container/operations.hpp"

namespace urun::cli {

struct Context {
  container::GlobalOptions global;
  // What the chosen command does; returns the process exit status.
  std::function<int()> action;
};

void add_lifecycle_commands(CLI::App& app, Context& ctx);   // create run start
void add_query_commands(CLI::App& app, Context& ctx);       // state list
void add_signal_commands(CLI::App& app, Context& ctx);      // kill delete
void add_spec_commands(CLI::App& app, Context& ctx);        // spec features
void add_cgroup_commands(CLI::App& app, Context& ctx);      // pause resume ps update
void add_exec_command(CLI::App& app, Context& ctx);         // exec
void add_mounts_command(CLI::App& app, Context& ctx);       // mounts add|remove
void add_checkpoint_commands(CLI::App& app, Context& ctx);  // checkpoint restore
void add_check_command(CLI::App& app, Context& ctx);        // check

// For main (cli/startup.cpp): the --version text, and what runs after parsing, before the
// chosen command (the sealed binary for the commands that put urun into a container).
std::string version_text();
void before_command(const CLI::App& app, char** argv);

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
