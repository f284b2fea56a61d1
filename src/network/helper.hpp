#pragma once
// The network helper of one rootless container (slirp4netns or pasta) and the small process that
// keeps it: no helper outlives its container.
//
//   urun (create) --fork--> keeper --fork/exec--> slirp4netns (PR_SET_PDEATHSIG: SIGKILL,
//                                                  --exit-fd: the keeper's pipe)
//                                    --fork/exec--> pasta (daemonizes; the keeper is its
//                                                  subreaper and kills it)
//
// The keeper is a fork of urun with every fd closed but its own (it must not hold the state
// dir's lock or the init's sync socket), in a session of its own, outside the container's
// cgroup. It starts the helper attached to the init's network namespace, waits until it is
// ready, publishes the ports (slirp4netns's API socket; pasta takes them on its command line)
// and reports to urun on a pipe; then it waits on a pidfd of the container's init and stops
// the helper when the init exits: whether the container ends, is deleted, or its runtime was
// killed during create (the init exits when its sync socket closes). A killed keeper takes
// slirp4netns with it (the parent-death signal); `delete` also kills both by pid, checking
// their start times.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "network/plan.hpp"

namespace urun::network {

class Helper {
 public:
  // Starts the helper for the container whose init is `init_pid`, before that process runs.
  // state_dir_fd/state_dir: the container's state directory, where the API socket, the
  // helper's log and pid file go. Throws Error with the helper's own message when it cannot
  // start; nothing is left running then.
  static Helper start(const NetworkPlan& plan, pid_t init_pid, int state_dir_fd,
                      const std::string& state_dir);

  Helper(Helper&& other) noexcept;
  Helper& operator=(Helper&&) = delete;
  Helper(const Helper&) = delete;
  ~Helper();  // stops keeper and helper unless released

  // Set-up succeeded: they run on after urun exits.
  void release() noexcept { keeper_pid_ = helper_pid_ = -1; }
  // Both processes, keeper first (for the state record's helperPids).
  std::vector<pid_t> pids() const { return {keeper_pid_, helper_pid_}; }
  std::vector<uint64_t> start_times() const { return {keeper_start_, helper_start_}; }
  // What `urun state` shows (run.urun.network.pid, address, gateway, dns).
  std::map<std::string, std::string> annotations() const { return annotations_; }

 private:
  Helper() = default;
  pid_t keeper_pid_ = -1, helper_pid_ = -1;
  uint64_t keeper_start_ = 0, helper_start_ = 0;
  std::map<std::string, std::string> annotations_;
};

// Kills (SIGKILL) each helper that is still the process recorded (pid and start time; 0: any)
// and waits up to a few seconds until it is gone. For delete and the end of a foreground run.
// Never throws: a helper that is already gone is what is wanted.
void stop_helpers(const std::vector<pid_t>& pids,
                  const std::vector<uint64_t>& start_times) noexcept;

}  // namespace urun::network
