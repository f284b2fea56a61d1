// state, list, kill and delete: the operations on existing containers.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "common/error.hpp"
#include "common/log.hpp"
#include "container/cgroup.hpp"
#include "container/commands.hpp"
#include "container/processes.hpp"
#include "container/recovery.hpp"
#include "container/status.hpp"
#include "container/teardown.hpp"
#include "network/helper.hpp"
#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {
namespace {

// What `state`, `kill` and `delete` say about a broken record, with the way out.
[[noreturn]] void throw_broken(const state::LoadedRecord& loaded, const std::string& id) {
  throw Error(
      loaded.problem + "; `delete --force " + state::printable_id(id) + "` removes the container",
      EUCLEAN);
}

struct SignalName {
  const char* name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

void kill_record(const state::Record& rec, int sig, bool all) {
  const std::string status = current_status(rec);
  if (status == "creating") throw Error(kNotRunning, ESRCH);
  if (status == "stopped") {
    if (!all) throw Error(kNotRunning, ESRCH);
    // containerd's shim runs `kill --all ID KILL` after every exit to reap what the init
    // left: processes that shared its pid namespace outlive it. Only the cgroup still names
    // them; without one nothing is proven to be the container's and nothing is signalled.
    // Either way --all succeeds, as runc's and crun's do.
    cgroup_of(rec)->kill_all(sig);
    return;
  }
  signal_processes(rec, sig, all);
  // A SIGKILL reaches a process frozen by the v1 freezer only once it thaws (kill_all thaws
  // on its own), as runc does: a killed container must not stay paused.
  if (status == "paused" && sig == SIGKILL && !all) cgroup_of(rec)->thaw();
}

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

std::vector<std::string> matching_ids(const state::StateStore& store, const std::string& regex) {
  std::regex re;
  try {
    re = std::regex(regex, std::regex::extended);
  } catch (const std::regex_error& e) {
    throw Error("invalid regex " + quote(regex) + ": " + e.what(), EINVAL);
  }
  std::vector<std::string> ids;
  for (const auto& id : store.list_ids())
    if (std::regex_search(id, re)) ids.push_back(id);
  return ids;
}

}  // namespace

int parse_signal(const std::string& signal) {
  if (signal.empty()) throw Error("invalid signal ``", EINVAL);
  if (std::isdigit(static_cast<unsigned char>(signal[0]))) {
    size_t used = 0;
    int n = -1;
    try {
      n = std::stoi(signal, &used);
    } catch (...) {
    }
    if (used != signal.size() || n <= 0 || n >= NSIG)
      throw Error("invalid signal " + quote(signal), EINVAL);
    return n;
  }
  std::string name = signal;
  for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (name.starts_with("SIG")) name.erase(0, 3);
  for (const auto& s : kSignals)
    if (name == s.name) return s.number;
  if (name.starts_with("RTMIN") || name.starts_with("RTMAX")) {
    bool min = name.starts_with("RTMIN");
    std::string rest = name.substr(5);
    int off = 0;
    if (!rest.empty()) {
      if ((min && rest[0] != '+') || (!min && rest[0] != '-'))
        throw Error("invalid signal " + quote(signal), EINVAL);
      off = std::atoi(rest.c_str() + 1);
    }
    int n = min ? SIGRTMIN + off : SIGRTMAX - off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw Error("invalid signal " + quote(signal), EINVAL);
}

std::string state(const GlobalOptions& global, const std::string& id) {
  state::validate_id(id);
  state::StateStore store(state_root(global.root));
  state::LoadedRecord loaded = store.peek(id);
  if (loaded.broken()) throw_broken(loaded, id);
  if (!loaded.ok()) {
    state::Record creating;
    creating.id = id;
    return oci_state_json(creating, "creating", true);
  }
  return oci_state_json(loaded.record, current_status(loaded.record), true);
}

std::string list(const GlobalOptions& global, ListFormat format) {
  state::StateStore store(state_root(global.root));
  std::vector<std::pair<state::Record, std::string>> rows;
  for (const auto& id : store.list_ids()) {
    state::LoadedRecord loaded;
    try {
      loaded = store.peek(id);
    } catch (const Error& e) {
      // ENOENT: deleted since it was listed, which is no news.
      if (e.code() != ENOENT)
        log::warning("list: container " + quote(id) + " skipped: " + e.what());
      continue;
    }
    // As crun does: a bad container is a warning, the others are listed.
    if (loaded.broken()) {
      log::warning("list: container " + quote(id) + " skipped: " + loaded.problem +
                   "; `delete --force " + id + "` removes it");
      continue;
    }
    if (!loaded.ok()) {
      state::Record creating;
      creating.id = id;
      rows.emplace_back(creating, "creating");
      continue;
    }
    std::string status = current_status(loaded.record);
    rows.emplace_back(std::move(loaded.record), status);
  }
  std::ostringstream out;
  if (format == ListFormat::quiet) {
    for (const auto& [rec, status] : rows) out << rec.id << "\n";
    return out.str();
  }
  if (format == ListFormat::json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& [rec, status] : rows)
      arr.push_back(nlohmann::ordered_json::parse(oci_state_json(rec, status)));
    return arr.dump() + "\n";
  }
  // Column widths follow the content, as crun's table does.
  std::vector<std::array<std::string, 6>> table;
  table.push_back({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
  for (const auto& [rec, status] : rows)
    table.push_back({rec.id, std::to_string(status == "stopped" ? 0 : rec.pid), status, rec.bundle,
                     rec.created, rec.owner});
  std::array<size_t, 6> width{};
  for (const auto& row : table)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : table) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << "\n";
  }
  return out.str();
}

void kill(const GlobalOptions& global, const std::string& id, const std::string& signal, bool all) {
  int sig = parse_signal(signal);
  state::validate_id(id);
  state::StateStore store(state_root(global.root));
  state::LoadedRecord loaded = store.peek(id);
  if (loaded.broken()) throw_broken(loaded, id);
  if (!loaded.ok()) throw Error(kNotRunning, ESRCH);
  kill_record(loaded.record, sig, all);
}

void kill_matching(const GlobalOptions& global, const std::string& regex, const std::string& signal,
                   bool all) {
  int sig = parse_signal(signal);
  state::StateStore store(state_root(global.root));
  for (const auto& id : matching_ids(store, regex)) {
    try {
      state::LoadedRecord loaded = store.peek(id);
      if (loaded.broken()) throw_broken(loaded, id);
      if (!loaded.ok()) continue;
      kill_record(loaded.record, sig, all);
    } catch (const Error& e) {
      // Stopped containers are skipped, as crun does; a broken one is news.
      if (e.code() == EUCLEAN)
        log::warning(std::string("kill ") + quote(id) + ": " + e.what());
      else
        log::debug(e.what());
    }
  }
}

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
