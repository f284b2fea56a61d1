// spec, features
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/fs.hpp"
#include "container/features.hpp"

namespace urun::cli {

void add_spec_commands(CLI::App& app, Context& ctx) {
  static std::string bundle = ".";
  static bool rootless = false;

  auto* spec = app.add_subcommand("spec", "Generate a configuration file");
  spec->add_option("-b,--bundle", bundle, "Bundle directory to write config.json into");
  spec->add_flag("--rootless", rootless, "A configuration usable by an unprivileged user");
  spec->callback([&ctx] {
    ctx.action = [] {
      in_context("spec", "", [&] { container::write_spec(bundle, rootless); });
      return 0;
    };
  });

  auto* features = app.add_subcommand("features", "Show the features this build supports");
  features->callback([&ctx] {
    ctx.action = [] {
      fs::write_all(STDOUT_FILENO, container::features().dump(2) + "\n");
      return 0;
    };
  });
}

}  // namespace urun::cli
