// features
#include "container/features.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "common/fs.hpp"

namespace urun::cli {

void add_features_command(CLI::App& app, Context& ctx) {
  auto* features = app.add_subcommand("features", "Show the features this build supports");
  set_action(features, ctx, [] {
    fs::write_all(STDOUT_FILENO, container::features().dump(2) + "\n");
    return 0;
  });
}

}  // namespace urun::cli
