// check: diagnoses the caller's (rootless) set-up; see diagnose/check.hpp.
#include "diagnose/check.hpp"

#include <unistd.h>

#include "cli/cli.hpp"
#include "common/fs.hpp"

namespace urun::cli {

void add_check_command(CLI::App& app, Context& ctx) {
  static std::string format = "text";
  auto* check = app.add_subcommand(
      "check", "Diagnose the set-up for (rootless) containers: one line per check, with fixes");
  check->add_option("--format", format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  set_action(check, ctx, [&ctx] {
    const diagnose::Findings findings = diagnose::run_checks(diagnose::current_context(ctx.global));
    fs::write_all(STDOUT_FILENO, format == "json" ? diagnose::format_json(findings)
                                                  : diagnose::format_text(findings));
    return diagnose::exit_status(findings);
  });
}

}  // namespace urun::cli
