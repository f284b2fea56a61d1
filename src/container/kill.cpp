// kill: a signal to the container's init, or with --all to all its processes.
#include <signal.h>

#include <cctype>
#include <cstdlib>

#include "common/error.hpp"
#include "common/log.hpp"
#include "container/cgroup.hpp"
#include "container/commands.hpp"
#include "container/open_container.hpp"
#include "container/processes.hpp"
#include "container/status.hpp"
#include "state/store.hpp"

namespace urun::container {
namespace {

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

void kill(const GlobalOptions& global, const std::string& id, const std::string& signal, bool all) {
  int sig = parse_signal(signal);
  state::validate_id(id);
  state::StateStore store(state_root(global.root));
  state::LoadedRecord loaded = peek_container(store, id);
  if (!loaded.ok()) throw Error(kNotRunning, ESRCH);
  kill_record(loaded.record, sig, all);
}

void kill_matching(const GlobalOptions& global, const std::string& regex, const std::string& signal,
                   bool all) {
  int sig = parse_signal(signal);
  state::StateStore store(state_root(global.root));
  for (const auto& id : matching_ids(store, regex)) {
    try {
      state::LoadedRecord loaded = peek_container(store, id);
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

}  // namespace urun::container
