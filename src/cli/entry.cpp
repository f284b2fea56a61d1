// The command line of urun: parses it, configures logging, runs one command and turns an Error
// into one line "urun: <message>" and exit status 1. Here rather than in main.cpp so that only
// the CLI module includes CLI11, whose header builds its validators in every file that includes
// it (CMakeLists.txt: the CLI module is one unity file).
#include "cli/entry.hpp"

#include <unistd.h>

#include "cli/cli.hpp"
#include "cli/cli11.hpp"
#include "cli/streams.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace urun::cli {
namespace {

// The final error goes to the --log destination (Podman reads that file as
// one JSON object) and, when that is not stderr, also to stderr.
int report(const std::string& message) {
  log::error(message);
  if (log::has_destination()) standard_error() << "urun: " << message << "\n";
  return 1;
}

}  // namespace

int run_command_line(int argc, char** argv) {
  before_parsing(argc, argv);
  CLI::App app{"urun - a rootless-first OCI container runtime", "urun"};
  app.require_subcommand(1);
  app.set_version_flag("-v,-V,--version", version_text);
  // crun's (argp's) -? and --usage print the usage too; subcommands inherit the names.
  app.set_help_flag("-h,-?,--help,--usage", "Print this help message and exit");
  Context ctx;
  std::string log_dest, log_format = "text", log_level;
  bool debug = false;
  app.add_option("--root", ctx.global.root, "Directory for the containers' state");
  app.add_option("--log", log_dest, "Log destination: file:PATH, journald:ID or syslog:ID");
  app.add_option("--log-format", log_format, "Log format: text or json");
  app.add_option("--log-level", log_level,
                 "Log level: debug, warning or error (default: error with --log, else warning)");
  app.add_flag("--debug", debug, "Verbose output (same as --log-level=debug)");
  app.add_flag("--no-pivot", ctx.global.no_pivot, "Use chroot instead of pivot_root (unsafe)");
  app.add_flag("--systemd-cgroup", ctx.global.systemd_cgroup, "Use systemd for cgroups");
  app.add_option("--cgroup-manager", ctx.global.cgroup_manager,
                 "Cgroup manager: cgroupfs, systemd or disabled")
      ->check(CLI::IsMember({"cgroupfs", "systemd", "disabled"}));
  // runc's global option; crun accepts and ignores it so that a runc command line works.
  // urun already detects an unprivileged caller and tolerates what it may not do to cgroups.
  std::string rootless = "auto";
  app.add_option("--rootless", rootless, "Accepted for runc compatibility: true, false or auto")
      ->check(CLI::IsMember({"true", "false", "auto"}));

  add_commands(app, ctx, argc, argv);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, standard_output(), standard_error());
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, standard_output(), standard_error());
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, standard_output(), standard_error());
  } catch (const CLI::ParseError& e) {
    standard_error() << "urun: " << e.what() << "\n";
    return e.get_exit_code() == 0 ? 0 : 1;
  }

  try {
    // Without --log-level: the manual's default (error) for a --log
    // destination, which Podman reads back as one JSON object; on stderr,
    // warnings too, so a user sees when urun falls back (single-id mapping,
    // no cgroups).
    log::Level level = debug                ? log::Level::debug
                       : !log_level.empty() ? log::parse_level(log_level)
                       : log_dest.empty()   ? log::Level::warning
                                            : log::Level::error;
    log::configure(log_dest, log::parse_format(log_format), level);
    if (ctx.global.systemd_cgroup && ctx.global.cgroup_manager.empty())
      ctx.global.cgroup_manager = "systemd";
    before_command(app, argv);
    return ctx.action ? ctx.action() : 0;
  } catch (const Error& e) {
    return report(e.message() + std::string(hint_text(e.hint())));
  } catch (const std::exception& e) {
    return report(e.what());
  }
}

}  // namespace urun::cli
