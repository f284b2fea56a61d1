// What main needs from the CLI besides the commands: the --version text and the step
// between parsing and running a command.
#include <string>

#include "cli/cli.hpp"
#include "container/features.hpp"
#include "version.hpp"

namespace urun::cli {

std::string version_text() {
  return std::string("urun version ") + kVersion + "\ncommit: " + kGitCommit +
         "\nspec: " + kOciVersion + "\n" + container::version_tags();  // CLI11 ends the line
}

void before_parsing(int argc, char** argv) noexcept { container::seal_binary_early(argc, argv); }

void before_command(const CLI::App& app, char** argv) {
  // These commands put urun processes into the container. (Only the chosen command is
  // registered: cli/commands.cpp.)
  for (const CLI::App* cmd : app.get_subcommands()) {
    const std::string& name = cmd->get_name();
    if (name == "create" || name == "run" || name == "exec") container::ensure_sealed_binary(argv);
  }
}

}  // namespace urun::cli
