// delete: removes a container: its processes (with --force), cgroup, poststop hooks and
// state; a broken record is recovered from with --force.
#include <signal.h>

#include <chrono>

#include "common/error.hpp"
#include "common/log.hpp"
#include "container/cgroup.hpp"
#include "container/commands.hpp"
#include "container/open_container.hpp"
#include "container/processes.hpp"
#include "container/recovery.hpp"
#include "container/status.hpp"
#include "container/teardown.hpp"
#include "network/helper.hpp"
#include "state/store.hpp"

namespace urun::container {
namespace {

// `delete --force` of a container whose record is broken: kills what
// identity.json proves to be the container's (recovery.hpp) and says, in one
// warning, what was wrong, what was done and what could not be.
void recover_broken(const state::ContainerDir& dir, const state::LoadedRecord& broken) {
  const state::LoadedRecord identity = dir.load_identity();
  const RecoveryPlan plan = plan_recovery(identity);
  const state::Record& rec = identity.record;
  std::string done;
  if (plan.kill_cgroup) {
    auto cgroup = cgroup_of(rec);
    cgroup->kill_all(SIGKILL);
    cgroup->destroy();
    done = "removed its cgroup " + quote(cgroup->path()) + " and the processes in it";
  } else if (plan.kill_init) {
    const std::string init = "its init (pid " + std::to_string(rec.pid) + ")";
    if (state::process_alive(rec.pid, rec.pid_start_time)) {
      try {
        signal_processes(rec, SIGKILL, true);
      } catch (const Error& e) {
        log::debug(e.what());
      }
      if (!wait_stopped(rec, std::chrono::seconds(10)))
        throw Error(init + " did not stop after SIGKILL", EBUSY);
      done = "killed " + init + " and the rest of its pid namespace, if it has its own";
    } else if (state::process_alive(rec.pid, 0)) {
      done = init + " has exited; pid " + std::to_string(rec.pid) +
             " now belongs to another process (its start time differs), which was left alone";
    } else {
      done = init + " has exited";
    }
  } else {
    done = "could not identify its processes (" + plan.unproven +
           "): any still running were left alone";
  }
  network::stop_helpers(rec.helper_pids, rec.helper_start_times);
  const std::string context = "delete " + quote(dir.id());
  if (identity.ok()) run_container_poststop(dir, rec, nullptr, context);
  log::warning(context + ": " + broken.problem + "; " + done);
}

}  // namespace

void remove(const GlobalOptions& global, const std::string& id, bool force) {
  state::validate_id(id);
  state::StateStore store(state_root(global.root));
  // As runc does: Podman cleans up a failed create with `delete --force`, which must succeed when
  // the create left nothing behind.
  if (force && !store.exists(id)) return;
  state::ContainerDir dir = store.open(id);
  state::LoadedRecord loaded = dir.load();
  if (loaded.kind == state::LoadedRecord::Kind::absent) {
    // A create that died before writing its record: nothing runs from it.
    dir.remove();
    return;
  }
  if (loaded.broken()) {
    // Without --force the container stays: it may still run, and only
    // --force may kill on the evidence recovery goes by.
    if (!force) throw_broken(loaded, id);
    recover_broken(dir, loaded);
    dir.remove();
    return;
  }
  state::Record& rec = loaded.record;
  std::string status = current_status(rec);
  // The creator holds the lock we now have until its record is final: a
  // record still "creating" means it was killed mid-create. Its cgroup and
  // init (if it got that far) may be left; they go now, force or not.
  const bool aborted = rec.status == "creating";
  if (!aborted && (status == "running" || status == "paused")) {
    if (!force)
      throw Error("container " + quote(id) + " is " + status + ": stop it first or use --force",
                  EBUSY);
  }
  // An aborted create's init that has exited leaves only the cgroup to hold what is left,
  // and destroying the cgroup kills that.
  const bool init_gone =
      aborted && rec.pid > 0 && !state::process_alive(rec.pid, rec.pid_start_time);
  destroy_container(dir, rec, (aborted || status != "stopped") && !init_gone, nullptr,
                    "delete " + quote(id));
}

void remove_matching(const GlobalOptions& global, const std::string& regex, bool force) {
  state::StateStore store(state_root(global.root));
  for (const auto& id : matching_ids(store, regex)) {
    try {
      remove(global, id, force);
    } catch (const Error& e) {
      log::error(std::string("delete ") + quote(id) + ": " + e.what());
    }
  }
}

}  // namespace urun::container
