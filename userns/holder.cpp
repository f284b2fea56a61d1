#include "userns/holder.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "common/error.hpp"

namespace urun::userns {
namespace {

// The parked child: it only waits for the parent's end of the pipe to close. Async-signal-safe
// calls only, since it is a copy of a possibly multi-threaded parent.
[[noreturn]] void park(int read_fd, int write_fd, pid_t parent) noexcept {
  ::close(write_fd);
  // Dies with the parent even if another process inherited the write end. Note that the signal
  // follows the creating *thread*: create holders from a thread that outlives them.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);
  char c;
  while (::read(read_fd, &c, 1) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

}  // namespace

UsernsHolder::UsernsHolder(const std::vector<Mapping>& uids, const std::vector<Mapping>& gids,
                           const WriteOptions& options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe2");
  UniqueFd read_end(fds[0]);
  park_fd_ = UniqueFd(fds[1]);

  const pid_t parent = ::getpid();
  // clone() with CLONE_NEWUSER rather than fork() + unshare(): the child is in its namespace
  // from its first instruction, so the parent can write the maps without a ready handshake.
  long ret = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (ret < 0) throw_errno("clone a user namespace holder");
  if (ret == 0) park(read_end.get(), park_fd_.get(), parent);
  pid_ = static_cast<pid_t>(ret);
  read_end.reset();

  try {
    result_ = write_id_maps(pid_, uids, gids, options);
    std::string path = "/proc/" + std::to_string(pid_) + "/ns/user";
    ns_fd_ = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns_fd_) throw_errno("open " + quote(path));
  } catch (Error& e) {
    reap();
    e.prepend("create user namespace holder");
    throw;
  }
}

UsernsHolder::~UsernsHolder() { reap(); }

UsernsHolder::UsernsHolder(UsernsHolder&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      park_fd_(std::move(other.park_fd_)),
      ns_fd_(std::move(other.ns_fd_)),
      result_(std::move(other.result_)) {}

UsernsHolder& UsernsHolder::operator=(UsernsHolder&& other) noexcept {
  if (this != &other) {
    reap();
    pid_ = std::exchange(other.pid_, -1);
    park_fd_ = std::move(other.park_fd_);
    ns_fd_ = std::move(other.ns_fd_);
    result_ = std::move(other.result_);
  }
  return *this;
}

void UsernsHolder::reap() noexcept {
  if (pid_ <= 0) return;
  int saved = errno;
  ::kill(pid_, SIGKILL);
  park_fd_.reset();
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  errno = saved;
}

}  // namespace urun::userns
