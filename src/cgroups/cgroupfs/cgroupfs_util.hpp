#pragma once
// File-system helpers shared by the cgroupfs managers (internal to src/cgroups).
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/resources.hpp"
#include "common/unique_fd.hpp"

namespace urun::cgroups::detail {

// statfs magic of a path: cgroup2, cgroup v1, or something else (a test tree).
enum class FsType { cgroup2, cgroup1, other, missing };
FsType fs_type(const std::string& path);

bool exists(const std::string& path);

// Creates every missing component of root + path (path starts with '/') and returns the
// directories it made, outermost first: what a failed create may remove (the others
// existed before and are not its own). A component removed meanwhile by someone else's
// clean-up is made again.
std::vector<std::string> make_cgroup_dirs(const std::string& root, const std::string& path);

// Undoes make_cgroup_dirs: removes the directories in `made` innermost first. The leaf of
// a path (one of `leaves`) goes with its sub-cgroups (whatever is below a directory this
// create made is its own); any other is removed only while empty, as a parent this create
// made may meanwhile hold another container's cgroup. Missing directories are skipped.
void remove_made_dirs(const std::vector<std::string>& made, const std::vector<std::string>& leaves);

// Writes one planned write into dir, following the fallback/optional rules of Write.
// Errors name the file and, on ENOENT, say the controller is not available.
void write_planned(const std::string& dir, const Write& w);

// write_planned for a plan written in order: consecutive writes to one file (a default config's
// twelve device rules) go through one open fd, each still its own write() and so its own command
// to the kernel, instead of an open (a path lookup through cgroupfs) and a close per rule.
class PlannedWriter {
 public:
  void write(const std::string& dir, const Write& w);

 private:
  std::string path_;  // the file fd_ is open on
  UniqueFd fd_;
};

// Writes a cgroup knob; the error names the full path.
void write_knob(const std::string& path, std::string_view value);
std::string read_knob(const std::string& path);  // trailing newline removed
// read_knob of a file that may be absent (nullopt), without asking first: one lookup.
std::optional<std::string> read_knob_if_present(const std::string& path);

// cgroup.procs of dir and of every sub-cgroup below it; a missing dir gives nothing.
void collect_procs(const std::string& dir, std::vector<pid_t>& out);

// Manager::claim() for one directory: throws (EBUSY) when dir or a sub-cgroup of it holds
// processes.
void refuse_processes(const std::string& dir);
// Manager::claim() for one directory: throws (EBUSY) when a process put in dir would be
// frozen: v1 freezer.state FROZEN or FREEZING (itself or through an ancestor); v2
// cgroup.freeze 1, or "frozen 1" in cgroup.events (set too when an ancestor is frozen). A
// file that is absent (no freezer there) says nothing.
void refuse_frozen(const std::string& dir);

// Removes dir and its sub-cgroups bottom-up. rmdir is retried on EBUSY for up to
// `patience` (exited tasks may linger until they are reaped). Missing dir: no-op.
void remove_cgroup(const std::string& dir,
                   std::chrono::milliseconds patience = std::chrono::milliseconds(2000));

// Sends sig to every pid listed by `list` (re-read each round); for SIGKILL repeats
// until the list is empty, throwing after `patience`.
template <class List>
void signal_all(List&& list, int sig, std::chrono::milliseconds patience);

void sleep_ms(int ms);

}  // namespace urun::cgroups::detail

#include <signal.h>

#include "common/error.hpp"

namespace urun::cgroups::detail {

template <class List>
void signal_all(List&& list, int sig, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    std::vector<pid_t> pids = list();
    if (pids.empty()) return;
    for (pid_t pid : pids)
      if (::kill(pid, sig) < 0 && errno != ESRCH) throw_errno("kill " + std::to_string(pid));
    // Other signals are delivered once: the processes decide what to do with them.
    if (sig != SIGKILL) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("kill cgroup processes: " + std::to_string(pids.size()) +
                      " processes still present after SIGKILL",
                  EBUSY);
    sleep_ms(10);
  }
}

}  // namespace urun::cgroups::detail
