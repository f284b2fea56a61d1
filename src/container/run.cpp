// run: create and start in one command; in the foreground, urun waits for the container's
// process and deletes the container when it exits.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "container/cgroup.hpp"
#include "container/commands.hpp"
#include "container/creation.hpp"
#include "container/hook_runs.hpp"
#include "container/process_io.hpp"
#include "linux/resctrl.hpp"
#include "network/helper.hpp"
#include "runtime/sync_channel.hpp"

namespace urun::container {

int run(const GlobalOptions& global, const CreateRequest& request, bool detach) {
  // Signals that arrive during set-up wait until the init exists.
  sigset_t set = forwarded_signals(), old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  if (!detach) ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  Creation c = create_container(global, request, true, detach);
  try {
    c.init.channel.send(runtime::Msg::kStart);
  } catch (...) {
    c.init.guard.kill_and_reap();  // before the cgroup goes, so rmdir finds it empty
    network::stop_helpers(c.record.helper_pids, c.record.helper_start_times);
    undo_cgroup(*c.cgroup);
    linux::remove_resctrl_dirs(c.record.resctrl_dirs);
    c.dir.remove();
    run_stopped_hooks(c.bundle.spec, c.record, "run " + quote(request.id));
    throw;
  }
  c.init.guard.release();
  try {
    run_poststart(c.bundle.spec, c.dir, c.record, "run " + quote(request.id));
  } catch (...) {
    // Killed by run_poststart; reaped here when it is our child (ECHILD otherwise).
    while (::waitpid(c.record.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw;
  }
  if (detach) {
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return 0;
  }
  c.dir.unlock();
  // The init reports an exec failure on the channel before exiting; success
  // closes the channel (close-on-exec) without a word.
  int status = c.init.terminal
                   ? wait_relaying_terminal(c.record.pid, c.init.terminal.get(), set,
                                            "the container process")
                   : wait_forwarding_signals(c.record.pid, set, "the container process");
  c.init.terminal.reset();
  std::optional<runtime::Frame> f;
  try {
    f = c.init.channel.receive_unless_closed();
  } catch (const Error&) {
    // A broken channel says nothing more about the process: its exit status stands.
  }
  if (f && f->type == runtime::Msg::kError) {
    log::error(f->payload);
    status = 127;
  }
  // A `delete` from elsewhere already removed the cgroup and ran poststop.
  if (!c.dir.relock()) return status;
  // The network helper's keeper stops its helper on its own once the init has exited, but
  // the port must be free when `run` returns (with --keep too: the container is stopped).
  network::stop_helpers(c.record.helper_pids, c.record.helper_start_times);
  // --keep: the container stays, stopped, for `delete` to remove with its cgroup.
  if (request.keep) return status;
  // Whatever the init left running in its cgroup goes with it.
  try {
    c.cgroup->destroy();
  } catch (const Error& e) {
    log::warning("remove cgroup: " + std::string(e.what()));
  }
  linux::remove_resctrl_dirs(c.record.resctrl_dirs);
  run_stopped_hooks(c.bundle.spec, c.record, "run " + quote(request.id));
  c.dir.remove();
  return status;
}

}  // namespace urun::container
