#include "container/process_io.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace urun::container {

void write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return;
  std::string tmp = path + ".urun-tmp";
  fs::write_file(tmp, std::to_string(pid), 0644);
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_errno("write pid file " + quote(path), err);
  }
}

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD})
    sigaddset(&set, sig);
  return set;
}

int wait_forwarding_signals(pid_t pid, const sigset_t& set, const std::string& what) {
  for (;;) {
    int status;
    pid_t r;
    while ((r = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (r != pid) continue;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR) throw_errno("wait for " + what);
    siginfo_t info;
    int sig = ::sigwaitinfo(&set, &info);
    if (sig > 0 && sig != SIGCHLD) ::kill(pid, sig);
  }
}

}  // namespace urun::container
