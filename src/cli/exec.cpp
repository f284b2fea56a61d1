// exec

#include "cli/cli.hpp"
#include "cli/streams.hpp"
#include "common/exec_failure.hpp"
#include "common/log.hpp"

namespace urun::cli {

void add_exec_command(CLI::App& app, Context& ctx) {
  static container::ExecRequest req;
  auto* cmd = app.add_subcommand("exec", "Exec a command in a running container");
  cmd->add_option("--apparmor", req.apparmor, "AppArmor profile for the process");
  cmd->add_option("--console-socket", req.console_socket,
                  "UNIX socket that receives the pty master of the process");
  cmd->add_option("--cwd", req.cwd, "Working directory of the process");
  // Repeatable options take one value per occurrence: the container id and
  // command that follow are never swallowed as more values.
  cmd->add_option("--cap", req.caps, "Additional capability for the process (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("-d,--detach", req.detach, "Detach from the process");
  cmd->add_option("--cgroup", req.cgroup, "Sub-cgroup of the container's cgroup to run in");
  cmd->add_option("-e,--env", req.env, "KEY=VALUE environment variable (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-new-privs", req.no_new_privs, "Set no_new_privs for the process");
  cmd->add_option("--preserve-fds", req.preserve_fds, "Additional fds to pass to the process")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-p,--process", req.process_file, "Process JSON file (instead of a command)");
  cmd->add_option("--process-label", req.process_label, "SELinux label for the process");
  cmd->add_option("--pid-file", req.pid_file, "File to write the process's pid to");
  cmd->add_option("--pidfd-socket", req.pidfd_socket,
                  "UNIX socket that receives a pidfd of the process");
  cmd->add_flag("-t,--tty", req.tty, "Allocate a pseudo-TTY");
  cmd->add_option("-u,--user", req.user, "UID[:GID] to run the process as");
  // runc's: more supplementary groups, repeatable or comma separated ("-g 10,20").
  cmd->add_option("-g,--additional-gids", req.additional_gids,
                  "Additional group for the process (repeatable)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_flag("--ignore-paused", req.ignore_paused,
                "Allow exec into a paused container (the process starts at resume)");
  static bool no_subreaper = false;
  cmd->add_flag("--no-subreaper", no_subreaper, "Accepted for compatibility; ignored (as crun)");
  cmd->add_option("container", req.id, "Container id")->required();
  cmd->add_option("command", req.args, "Command and its arguments");
  // exec's options are recognised anywhere before the container id, and an unknown one is
  // an error (never run as the command: `exec --bogus c true`). From the id on, everything
  // is the command and its arguments, options included: `exec c1 sh -c 'echo x'` passes -c
  // to sh.
  cmd->positionals_at_end(true);
  cmd->callback([&ctx] {
    if (!req.args.empty() && req.args.front() == "--") req.args.erase(req.args.begin());
    ctx.action = [&ctx] {
      try {
        return in_context("exec", req.id, [&] { return container::exec(ctx.global, req); });
      } catch (const ExecFailure& e) {
        // The command could not run: exit as a shell would (127, 126), not 1.
        log::error(e.message());
        if (log::has_destination()) standard_error() << "urun: " << e.message() << "\n";
        return e.status();
      }
    };
  });
}

}  // namespace urun::cli
