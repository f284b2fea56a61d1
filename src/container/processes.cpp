#include "container/processes.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "container/cgroup.hpp"

namespace urun::container {
namespace {

// Every process in the init's pid namespace (the container has its own), else
// just the init. Without a cgroup this is how --all finds the processes.
std::vector<pid_t> pid_namespace_members(const state::Record& rec) {
  std::vector<pid_t> pids{rec.pid};
  struct stat init_ns {
  }, host_ns{};
  std::string init_ns_path = "/proc/" + std::to_string(rec.pid) + "/ns/pid";
  if (::stat(init_ns_path.c_str(), &init_ns) < 0 || ::stat("/proc/self/ns/pid", &host_ns) < 0 ||
      init_ns.st_ino == host_ns.st_ino)
    return pids;
  DIR* d = ::opendir("/proc");
  if (!d) return pids;
  for (dirent* e; (e = ::readdir(d));) {
    char* end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == rec.pid) continue;
    struct stat st {};
    std::string p = "/proc/" + std::string(e->d_name) + "/ns/pid";
    if (::stat(p.c_str(), &st) == 0 && st.st_ino == init_ns.st_ino && st.st_dev == init_ns.st_dev)
      pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return pids;
}

}  // namespace

std::vector<pid_t> container_pids(const state::Record& rec) {
  auto cgroup = cgroup_of(rec);
  if (cgroup->kind() != "disabled") return cgroup->pids();
  std::vector<pid_t> pids = pid_namespace_members(rec);
  std::sort(pids.begin(), pids.end());
  return pids;
}

void signal_init(const state::Record& rec, int sig) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, rec.pid, 0)));
  if (!fd || !state::process_alive(rec.pid, rec.pid_start_time)) throw Error(kNotRunning, ESRCH);
  if (::syscall(SYS_pidfd_send_signal, fd.get(), sig, nullptr, 0) < 0)
    throw_errno("kill container " + quote(rec.id));
}

void signal_processes(const state::Record& rec, int sig, bool all) {
  if (!all) {
    signal_init(rec, sig);
    return;
  }
  auto cgroup = cgroup_of(rec);
  if (cgroup->kind() != "disabled") {
    cgroup->kill_all(sig);
    return;
  }
  for (pid_t pid : container_pids(rec)) {
    if (pid == rec.pid)
      signal_init(rec, sig);
    else
      ::kill(pid, sig);
  }
}

bool wait_stopped(const state::Record& rec, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto pause = std::chrono::microseconds(200);
  while (state::process_alive(rec.pid, rec.pid_start_time)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace urun::container
