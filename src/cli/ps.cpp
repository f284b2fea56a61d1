// ps
#include <unistd.h>

#include "cli/cli.hpp"
#include "common/fs.hpp"

namespace urun::cli {

void add_ps_command(CLI::App& app, Context& ctx) {
  static std::string id, format = "table";
  auto* ps = app.add_subcommand("ps", "Show the processes running in a container");
  ps->add_option("-f,--format", format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  ps->add_option("container", id, "Container id")->required();
  set_action(ps, ctx, [&ctx] {
    fs::write_all(STDOUT_FILENO,
                  in_context("ps", id, [&] { return container::ps(ctx.global, id, format); }));
    return 0;
  });
}

}  // namespace urun::cli
