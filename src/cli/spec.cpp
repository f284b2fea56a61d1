// spec
#include "cli/cli.hpp"

namespace urun::cli {

void add_spec_command(CLI::App& app, Context& ctx) {
  static std::string bundle = ".";
  static bool rootless = false;
  auto* spec = app.add_subcommand("spec", "Generate a configuration file");
  spec->add_option("-b,--bundle", bundle, "Bundle directory to write config.json into");
  spec->add_flag("--rootless", rootless, "A configuration usable by an unprivileged user");
  set_action(spec, ctx, [] {
    in_context("spec", "", [&] { container::write_spec(bundle, rootless); });
    return 0;
  });
}

}  // namespace urun::cli
