// list (ls)
#include <unistd.h>

#include "cli/cli.hpp"
#include "common/fs.hpp"

namespace urun::cli {

void add_list_command(CLI::App& app, Context& ctx) {
  static std::string format = "table";
  static bool quiet = false;
  auto* list = app.add_subcommand("list", "List known containers");
  list->alias("ls");
  list->add_flag("-q,--quiet", quiet, "Show only the container ids");
  list->add_option("-f,--format", format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  set_action(list, ctx, [&ctx] {
    auto fmt = quiet              ? container::ListFormat::quiet
               : format == "json" ? container::ListFormat::json
                                  : container::ListFormat::table;
    fs::write_all(STDOUT_FILENO,
                  in_context("list", "", [&] { return container::list(ctx.global, fmt); }));
    return 0;
  });
}

}  // namespace urun::cli
