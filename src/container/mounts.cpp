// How a mount reaches a running container. Everything is checked first, and every id-mapped
// tree is made (as the caller, on the host), before anything changes; then a helper process
//   - as root: stays in the host's mount namespace to clone bind sources and make filesystems,
//   - unprivileged: joins the container's user namespace and unshares a mount namespace of its
//     own, where it is privileged enough to clone the sources it can reach (as the init does at
//     create) and to make filesystems the container's namespace will own,
// sets each tree's attributes, joins the container's mount namespace and moves the trees onto
// their destinations, resolved inside the container's root (/proc/<init>/root, opened before)
// without leaving it. A failure unmounts what this call had placed. The helper's error comes
// back over a pipe as "<errno> <message>".
#include "container/mounts.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <optional>

#include "common/child_guard.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "container/open_container.hpp"
#include "container/status.hpp"
#include "linux/mounts/bind_sources.hpp"
#include "linux/mounts/live_mounts.hpp"
#include "linux/mounts/mounts.hpp"
#include "runtime/idmapped_mounts.hpp"
#include "spec/json_document.hpp"
#include "spec/mount_checks.hpp"
#include "state/store.hpp"
#include "userns/mapping.hpp"

namespace urun::container {
namespace {

std::vector<spec::Mount> read_mounts(const std::string& file, bool add) {
  try {
    const std::string text =
        file == "-" ? fs::read_fd_limited(STDIN_FILENO, "standard input", spec::kMaxDocumentBytes)
                    : fs::read_file_limited(file, spec::kMaxDocumentBytes);
    std::vector<spec::Mount> mounts = spec::mounts_from_json(spec::parse_document(text));
    if (mounts.empty()) throw Error("no mounts given", EINVAL);
    for (size_t i = 0; i < mounts.size(); ++i) {
      const std::string base = "mounts[" + std::to_string(i) + "]";
      if (add) {
        spec::check_mount(mounts[i], base);
      } else if (mounts[i].destination.empty()) {
        throw Error(base + ".destination: must not be empty", EINVAL);
      }
    }
    return mounts;
  } catch (Error& e) {
    throw e.prepend(file == "-" ? std::string("standard input") : quote(file));
  }
}

UniqueFd open_proc(pid_t pid, const char* entry, int flags) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + entry;
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd) throw_errno("open " + quote(path));
  return fd;
}

// What the helper needs of the container, opened while its init is known to be the one of the
// record (checked again afterwards, so a reused pid is never acted on).
struct Live {
  pid_t pid = -1;
  UniqueFd root, mount_ns, user_ns;  // user_ns empty: the container shares the caller's
  std::vector<userns::Mapping> uids, gids;
};

Live open_live(const GlobalOptions& global, const std::string& id) {
  const OpenedContainer opened = open_container(global, id, Lock::shared);
  require_status(opened, {"running", "created", "paused"}, ": it has no mounts to change");
  const state::Record& rec = opened.record;
  Live live;
  live.pid = rec.pid;
  live.root = open_proc(rec.pid, "root", O_PATH | O_DIRECTORY);
  live.mount_ns = open_proc(rec.pid, "ns/mnt", O_RDONLY);
  // Never the host's: a container without a mount namespace of its own gets no mounts here.
  struct stat theirs {
  }, ours{};
  if (::fstat(live.mount_ns.get(), &theirs) < 0 || ::stat("/proc/self/ns/mnt", &ours) < 0)
    throw_errno("stat the container's mount namespace");
  if (theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
    throw Error("container " + quote(id) + " shares the runtime's mount namespace", EINVAL);
  live.user_ns = runtime::own_user_namespace_of(rec.pid);
  if (live.user_ns) {
    live.uids =
        userns::parse_id_map(fs::read_file("/proc/" + std::to_string(rec.pid) + "/uid_map"));
    live.gids =
        userns::parse_id_map(fs::read_file("/proc/" + std::to_string(rec.pid) + "/gid_map"));
  }
  if (!state::process_alive(rec.pid, rec.pid_start_time))
    throw Error("container " + quote(id) + " stopped", ESRCH);
  return live;
}

// Runs `work` in a forked helper and rethrows its Error here.
void run_helper(const std::function<void()>& work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork the mount helper");
  if (pid == 0) {
    read_end.reset();
    int code = 0;
    try {
      work();
    } catch (const Error& e) {
      fs::write_all(write_end.get(), std::to_string(e.code()) + " " + e.message());
      code = 1;
    } catch (const std::exception& e) {
      fs::write_all(write_end.get(), std::to_string(EIO) + " " + e.what());
      code = 1;
    }
    ::_exit(code);
  }
  ChildGuard guard(pid);
  write_end.reset();
  const std::string report = fs::read_fd_limited(read_end.get(), "the mount helper", 1 << 16);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  guard.release();
  if (!report.empty()) {
    const size_t space = report.find(' ');
    int err = EIO;
    try {
      err = std::stoi(report.substr(0, space));
    } catch (...) {
    }
    throw Error(space == std::string::npos ? report : report.substr(space + 1), err);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("the mount helper failed without a message", EIO);
}

void join(int ns_fd, int type, const char* what) {
  if (::setns(ns_fd, type) < 0) throw_errno(std::string("join the container's ") + what);
}

// In the helper: the joined user namespace's own mount namespace, where it may clone what the
// caller can reach and make filesystems the container's user namespace owns.
void enter_private_mount_namespace(const Live& live) {
  join(live.user_ns.get(), CLONE_NEWUSER, "user namespace");
  if (::unshare(CLONE_NEWNS) < 0) throw_errno("unshare a mount namespace for the new mounts");
}

UniqueFd make_tree(const spec::Mount& m, const linux::MountOptions& opts, const std::string& what) {
  if (linux::is_bind_mount(m, opts)) {
    if (m.source.empty()) throw Error(what + ": a bind mount needs a source", EINVAL);
    // A slave of a shared source, as at create: nothing propagates back to the host.
    return linux::clone_bind_source(m, "", what);
  }
  return linux::make_filesystem_tree(m, opts, what);
}

std::string describe(const spec::Mount& m) {
  return "mount " + quote(m.source.empty() ? m.type : m.source) + " on " + quote(m.destination);
}

}  // namespace

void add_mounts(const GlobalOptions& global, const std::string& id, const std::string& file) {
  std::vector<spec::Mount> mounts = read_mounts(file, true);
  std::vector<linux::MountOptions> opts;
  // Relative sources are the caller's, as with crun: made absolute before the helper moves.
  std::string cwd = fs::real_path(".");
  for (auto& m : mounts) {
    opts.push_back(linux::parse_mount_options(m.options));
    linux::check_live_mount(m, opts.back(), describe(m));
    if (!m.source.empty() && !m.source.starts_with('/') && linux::is_bind_mount(m, opts.back()))
      m.source = cwd + "/" + m.source;
  }
  Live live = open_live(global, id);
  const bool privileged = ::geteuid() == 0;
  runtime::IdmapContext ctx{cwd, live.user_ns ? live.user_ns.get() : -1, live.uids, live.gids};
  std::vector<UniqueFd> trees(mounts.size());
  for (size_t i = 0; i < mounts.size(); ++i)
    trees[i] = runtime::make_mount_idmapped_tree(mounts[i], ctx);
  run_helper([&] {
    if (!privileged && live.user_ns) enter_private_mount_namespace(live);
    for (size_t i = 0; i < mounts.size(); ++i) {
      const std::string what = describe(mounts[i]);
      if (!trees[i]) trees[i] = make_tree(mounts[i], opts[i], what);
      linux::set_tree_attributes(trees[i].get(), opts[i], what);
    }
    join(live.mount_ns.get(), CLONE_NEWNS, "mount namespace");
    size_t placed = 0;
    try {
      for (; placed < mounts.size(); ++placed)
        linux::place_tree(live.root.get(), trees[placed].get(), mounts[placed].destination,
                          opts[placed].dest_nofollow, describe(mounts[placed]));
    } catch (...) {
      // All or nothing: what this call placed comes off again, last first.
      while (placed-- > 0) {
        try {
          linux::unmount_in_root(live.root.get(), mounts[placed].destination,
                                 opts[placed].dest_nofollow);
        } catch (const Error&) {
        }
      }
      throw;
    }
  });
}

void remove_mounts(const GlobalOptions& global, const std::string& id, const std::string& file) {
  const std::vector<spec::Mount> mounts = read_mounts(file, false);
  Live live = open_live(global, id);
  const bool privileged = ::geteuid() == 0;
  run_helper([&] {
    if (!privileged && live.user_ns) join(live.user_ns.get(), CLONE_NEWUSER, "user namespace");
    join(live.mount_ns.get(), CLONE_NEWNS, "mount namespace");
    for (const spec::Mount& m : mounts)
      linux::unmount_in_root(live.root.get(), m.destination,
                             linux::parse_mount_options(m.options).dest_nofollow);
  });
}

}  // namespace urun::container
