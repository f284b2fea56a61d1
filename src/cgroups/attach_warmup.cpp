#include "cgroups/attach_warmup.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "cgroups/manager.hpp"
#include "common/fs.hpp"

namespace urun::cgroups {

AttachWarmup::AttachWarmup(const std::string& root) {
  std::string procs_file;
  try {
    auto own = parse_proc_cgroup(fs::read_file("/proc/self/cgroup"));
    // Any hierarchy will do (the lock is global): the hybrid host's cgroup2 tree, a pure
    // v2 host's, or a v1 controller every host mounts.
    const std::pair<const char*, const char*> candidates[] = {
        {"/unified", ""}, {"", ""}, {"/pids", "pids"}, {"/memory", "memory"}};
    for (const auto& [dir, key] : candidates) {
      auto it = own.find(key);
      if (it == own.end()) continue;
      std::string file = root + dir + it->second;
      if (file.back() != '/') file += '/';
      file += "cgroup.procs";
      if (::access(file.c_str(), W_OK) != 0) continue;
      procs_file = std::move(file);
      break;
    }
  } catch (...) {
    return;
  }
  if (procs_file.empty()) return;
  pid_ = ::fork();
  if (pid_ != 0) return;  // the parent, or fork failed (-1): nothing to wait for
  // "0" names the writing process itself: a move into the cgroup it is already in.
  int fd = ::open(procs_file.c_str(), O_WRONLY | O_CLOEXEC);
  // The result does not matter: the wait is what we came for.
  if (fd >= 0) [[maybe_unused]] ssize_t n = ::write(fd, "0", 1);
  ::_exit(0);
}

AttachWarmup::~AttachWarmup() {
  if (pid_ <= 0) return;
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace urun::cgroups
