// Which commands add_commands registers for a command line: only the one it names (a
// container's start builds no other command's options), every one when it names none.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli.hpp"

namespace urun::cli {
namespace {

// The names of the commands registered for argv (after the main app's own options, as in
// main.cpp: one that takes a value and one that does not).
std::vector<std::string> registered(std::vector<std::string> args) {
  CLI::App app{"test", "urun"};
  app.set_help_flag("-h,--help");
  std::string root, log_format;
  bool debug = false;
  app.add_option("--root", root);
  app.add_option("--log-format", log_format);
  app.add_flag("--debug", debug);
  Context ctx;
  args.insert(args.begin(), "urun");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  add_commands(app, ctx, static_cast<int>(args.size()), argv.data());
  std::vector<std::string> names;
  for (const CLI::App* cmd : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(cmd->get_name());
  return names;
}

TEST(AddCommands, OnlyTheNamedCommand) {
  EXPECT_EQ(registered({"run", "--bundle", "b", "c1"}), std::vector<std::string>{"run"});
  EXPECT_EQ(registered({"--root", "/r", "create", "c1"}), std::vector<std::string>{"create"});
  EXPECT_EQ(registered({"--root=/r", "--debug", "state", "c1"}), std::vector<std::string>{"state"});
  EXPECT_EQ(registered({"--log-format", "json", "delete", "c1"}),
            std::vector<std::string>{"delete"});
}

TEST(AddCommands, AnAliasNamesItsCommand) {
  EXPECT_EQ(registered({"rm", "c1"}), std::vector<std::string>{"delete"});
  EXPECT_EQ(registered({"ls"}), std::vector<std::string>{"list"});
}

TEST(AddCommands, TheValueOfAnOptionIsNotTheCommand) {
  // "run" here is the state root, "exec" the command.
  EXPECT_EQ(registered({"--root", "run", "exec", "c1", "true"}), std::vector<std::string>{"exec"});
}

TEST(AddCommands, EveryCommandWithoutOne) {
  const size_t all = registered({}).size();
  EXPECT_GE(all, 18u);
  EXPECT_EQ(registered({"--help"}).size(), all);         // help lists them all
  EXPECT_EQ(registered({"--help", "run"}).size(), all);  // help comes first
  EXPECT_EQ(registered({"bogus", "c1"}).size(), all);    // CLI11 names the error
  EXPECT_EQ(registered({"--unknown", "run", "c1"}).size(), all);
  EXPECT_EQ(registered({"--", "run"}).size(), all);
}

}  // namespace
}  // namespace urun::cli
