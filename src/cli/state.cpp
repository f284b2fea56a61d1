// state, list
#include <unistd.h>

#include "cli/cli.hpp"
#include "common/fs.hpp"

namespace urun::cli {

void add_query_commands(CLI::App& app, Context& ctx) {
  static std::string state_id, format = "table";
  static bool quiet = false;

  auto* state = app.add_subcommand("state", "Output the state of a container");
  state->add_option("container", state_id, "Container id")->required();
  state->callback([&ctx] {
    ctx.action = [&ctx] {
      std::string out =
          in_context("state", state_id, [&] { return container::state(ctx.global, state_id); });
      fs::write_all(STDOUT_FILENO, out + "\n");
      return 0;
    };
  });

  auto* list = app.add_subcommand("list", "List known containers");
  list->alias("ls");
  list->add_flag("-q,--quiet", quiet, "Show only the container ids");
  list->add_option("-f,--format", format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  list->callback([&ctx] {
    ctx.action = [&ctx] {
      auto fmt = quiet              ? container::ListFormat::quiet
                 : format == "json" ? container::ListFormat::json
                                    : container::ListFormat::table;
      fs::write_all(STDOUT_FILENO,
                    in_context("list", "", [&] { return container::list(ctx.global, fmt); }));
      return 0;
    };
  });
}

}  // namespace urun::cli
