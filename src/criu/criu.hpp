#pragma once
// Running CRIU through its command line: finding the binary, running one
// action (dump, pre-dump, restore) with its log in the work directory, and
// turning a failure into one line that names the step and points at the log.
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace urun::criu {

// The oldest CRIU urun drives: 3.11 has every option used here (--external
// mnt[]/net[], --inherit-fd, --manage-cgroups=MODE, --lsm-profile); Podman asks
// for the same.
constexpr int kMinVersion = 31100;  // major * 10000 + minor * 100 + sublevel

// The `criu` found in $PATH (then /usr/local/sbin, /usr/sbin, /sbin), or
// nullopt. Only looks at files: nothing is run.
std::optional<std::string> find_binary();

// "Version: 4.1.1" (criu --version) -> 40101; 0 when the text has no version.
int parse_version(const std::string& version_output);

// Whether a CRIU of at least kMinVersion is installed and runs (it is run once
// with --version). For `--version` (+CRIU) and `features`.
bool criu_available();

// Whether `criu check --feature <feature>` passes (e.g. "mem_dirty_track":
// the kernel's soft-dirty bits, without which --track-mem fails).
bool has_feature(const std::string& binary, const std::string& feature);

// One CRIU invocation. args follow the action ("dump", "restore", ...);
// fds_to_pass stay open (not close-on-exec) in CRIU, at the same numbers
// (--inherit-fd names them). CRIU's stdin, stdout and stderr are ours.
struct Invocation {
  std::string binary;
  std::string action;
  std::vector<std::string> args;
  std::vector<int> fds_to_pass;
  std::string work_dir;  // CRIU's -W, where the log goes
  std::string log_name;  // e.g. "dump.log"
  std::string step;      // what the caller calls it in errors: "checkpoint (CRIU dump)"
  // Through `criu swrk` (rpc.hpp) instead of the command line: for a
  // container with a terminal. CRIU then hands the master of the pty it makes
  // at restore to on_pty_master (which must not keep the fd).
  bool rpc = false;
  std::function<void(int)> on_pty_master;
};

// Moves this process into a mount namespace of its own (slave of the host's:
// mounts made there meanwhile still show) and binds source on target there:
// the rootfs a restore's CRIU pivots into, which so never shows on the host
// and goes away with the process, whatever happens to it. CRIU, our child,
// shares the namespace; so do the fds it is given by number over RPC, which
// it reaches through /proc/<our pid>/fd.
void bind_in_private_namespace(const std::string& source, const std::string& target);

// Runs CRIU and waits for it. Throws Error("<step> failed: <CRIU's first error
// line>; see the CRIU log `<work_dir>/<log_name>`") when it does not succeed.
// Returns the restored tree's root pid when CRIU reported it (RPC), else 0.
pid_t run(const Invocation& invocation);

// The most telling error of a CRIU log: its first "Error" line, without the
// timestamp and source prefix, leaving out errors CRIU goes on from (it cannot raise RLIMIT_NOFILE
// without CAP_SYS_RESOURCE). "" when there is none.
std::string log_error(const std::string& log_text);

// The arguments that describe CRIU's cgroup handling: "--manage-cgroups=MODE".
// Throws Error(EINVAL) for a mode other than soft, ignore, full or strict.
std::string manage_cgroups_arg(const std::string& mode);

}  // namespace urun::criu
