#include "state/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "userns/initial.hpp"

namespace urun::state {
namespace {

constexpr size_t kMaxIdLength = 255;  // NAME_MAX: the id is a directory name
constexpr size_t kShownIdLength = 64;
constexpr const char* kStateFile = "state.json";
constexpr const char* kIdentityFile = "identity.json";
constexpr const char* kConfigCopy = "config.json";

// The record: state.json once create has finished, identity.json before.
LoadedRecord load_record(int dir_fd, std::string_view id, const std::string& dir_path) {
  LoadedRecord state = load_record_file(dir_fd, kStateFile, id, dir_path);
  if (state.kind != LoadedRecord::Kind::absent) return state;
  return load_record_file(dir_fd, kIdentityFile, id, dir_path);
}

// Blocks until the lock is ours; a signal (e.g. SIGWINCH) must not turn a
// wait into a failure.
void lock_fd(int fd, bool exclusive, std::string_view id) {
  while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
    if (errno != EINTR) throw_errno("lock container " + quote(id));
  }
}

// True when the directory behind fd has been removed (rmdir sets its link
// count to 0): the lock we waited for was released by a `delete`.
bool is_unlinked(int fd, std::string_view id) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw_errno("stat container " + quote(id));
  return st.st_nlink == 0;
}

}  // namespace

std::string printable_id(std::string_view id) {
  // An id is user input (or read from a file) and may hold escape sequences
  // or be huge.
  std::string out;
  for (size_t i = 0; i < id.size() && i < kShownIdLength; ++i) {
    auto c = static_cast<unsigned char>(id[i]);
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (id.size() > kShownIdLength) out += "...";
  return out;
}

// crun 1.28's rule and messages: ASCII letters, digits, `_`, `+`, `.` and `-`, not starting with
// `.` (which also keeps out `.`, `..` and the state root's `.cache`). The id is a directory name,
// a cgroup name and a word in `list` output and scripts; a character outside the set is shown
// escaped when it is not printable, never echoed raw to a terminal.
void validate_id(std::string_view id) {
  if (id.empty()) throw Error("empty container ID", EINVAL);
  if (id[0] == '.') throw Error("invalid container ID " + quote(printable_id(id)), EINVAL);
  for (char c : id) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (c == '_' || c == '+' || c == '.' || c == '-') continue;
    throw Error("invalid character " + quote(printable_id(std::string_view(&c, 1))) +
                    " in the container ID " + quote(printable_id(id)),
                EINVAL);
  }
  if (id.size() > kMaxIdLength)
    throw Error("invalid container ID " + quote(printable_id(id)) + ": longer than " +
                    std::to_string(kMaxIdLength) + " bytes",
                EINVAL);
}

std::string default_root(uid_t euid, const char* xdg_runtime_dir, const std::string& run_user_base,
                         bool host_root) {
  // Like crun, the host's root always uses the system-wide directory, even
  // when a login session left XDG_RUNTIME_DIR set. Root in a user namespace
  // (rootless Podman runs the runtime in its own) cannot write there, and
  // is handed the user's XDG_RUNTIME_DIR.
  if (euid == 0 && (host_root || !xdg_runtime_dir || xdg_runtime_dir[0] != '/')) return "/run/urun";
  // The XDG base directory spec says relative values are invalid and must be
  // ignored.
  if (xdg_runtime_dir && xdg_runtime_dir[0] == '/') return std::string(xdg_runtime_dir) + "/urun";
  // Without a session (e.g. `sudo -u`, cron) /run/user/<uid> may still be
  // there; use it only when it is really ours, or another user could read or
  // plant our state.
  std::string user_dir = run_user_base + "/" + std::to_string(euid);
  struct stat st {};
  if (::stat(user_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == euid)
    return user_dir + "/urun";
  throw Error("cannot choose a state directory: set XDG_RUNTIME_DIR or pass --root", ENOENT)
      .set_hint(Hint::rootless_setup);
}

std::string default_root() {
  const uid_t euid = ::geteuid();
  return default_root(euid, std::getenv("XDG_RUNTIME_DIR"), "/run/user",
                      euid != 0 || userns::in_initial_user_namespace());
}

namespace {

// Opens (making it when absent) the state root and checks its ownership (see
// check_state_root); throws an Error that names the path and the fix.
UniqueFd open_state_root(const std::string& root) {
  // O_PATH needs no permission on the directory itself, so the check below
  // also names the problem of a root another user keeps private.
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd && errno == ENOENT) {
    // An existing root keeps its mode (the check below judges it).
    fs::mkdir_all(root, 0700);
    root_fd = UniqueFd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  if (!root_fd) throw_errno("open state root " + quote(root));
  // The root as opened (a symlink to it is judged by its target), then its
  // real parent: two fstats on every command.
  const uid_t euid = ::geteuid();
  struct stat st {};
  struct stat parent_st {};
  if (::fstat(root_fd.get(), &st) < 0) throw_errno("stat state root " + quote(root));
  const DirOwnership root_own{st.st_uid, st.st_mode};
  // Judged alone first: ".." of another user's private root is out of reach.
  RootProblem problem = check_state_root(root_own, {euid, 0700}, euid);
  DirOwnership parent_own;
  if (problem == RootProblem::none) {
    if (::fstatat(root_fd.get(), "..", &parent_st, 0) < 0)
      throw_errno("stat the parent of state root " + quote(root));
    parent_own = {parent_st.st_uid, parent_st.st_mode};
    problem = check_state_root(root_own, parent_own, euid);
  }
  if (problem == RootProblem::none) return root_fd;
  // Messages name the real paths (the parent is the one the root is in).
  std::string path = root;
  try {
    path = fs::real_path(root);
  } catch (const Error&) {
  }
  auto slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  throw Error(describe_root_problem(problem, root, root_own, parent, parent_own, euid), EPERM);
}

}  // namespace

StateStore::StateStore(std::string root) : root_(std::move(root)) {
  if (root_.empty()) throw Error("state root: empty path", EINVAL);
  // For an unprivileged caller a root it cannot make, open or own comes from its set-up
  // (XDG_RUNTIME_DIR missing, not writable, or another user's).
  root_fd_ = with_hint(::geteuid() != 0 ? Hint::rootless_setup : Hint::none,
                       [&] { return open_state_root(root_); });
}

LoadedRecord StateStore::peek(std::string_view id) const {
  validate_id(id);
  std::string name(id);
  UniqueFd dir(
      ::openat(root_fd_.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) throw Error("container " + quote(id) + " does not exist", ENOENT);
    throw_errno("open container directory " + quote(root_ + "/" + name));
  }
  return load_record(dir.get(), id, root_ + "/" + name);
}

ContainerDir StateStore::create(std::string_view id) {
  validate_id(id);
  std::string name(id);
  if (::mkdirat(root_fd_.get(), name.c_str(), 0700) < 0) {
    if (errno == EEXIST) throw Error("container " + quote(id) + " already exists", EEXIST);
    throw_errno("create container directory " + quote(root_ + "/" + name));
  }
  // flock needs a real open file (not O_PATH). Between mkdirat and flock
  // another command may see the directory without state.json: readers must
  // treat a missing record as a container still being created.
  UniqueFd fd(
      ::openat(root_fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    // Do not leave an empty directory behind that blocks the id forever.
    ::unlinkat(root_fd_.get(), name.c_str(), AT_REMOVEDIR);
    throw_errno("open container directory " + quote(root_ + "/" + name), err);
  }
  lock_fd(fd.get(), true, id);
  if (is_unlinked(fd.get(), id))
    throw Error("container " + quote(id) + " was deleted while being created", ENOENT);
  UniqueFd root_dup(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!root_dup) throw_errno("dup state root fd");
  return ContainerDir(name, root_ + "/" + name, std::move(fd), std::move(root_dup));
}

ContainerDir StateStore::open(std::string_view id, bool exclusive) {
  validate_id(id);
  std::string name(id);
  // A `delete` may remove the directory while we wait on its lock; and a new
  // `create` may then make a fresh one under the same name. Retry so we end up
  // on the directory that is linked now, or report that there is none.
  for (int attempt = 0; attempt < 16; ++attempt) {
    UniqueFd fd(
        ::openat(root_fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) throw Error("container " + quote(id) + " does not exist", ENOENT);
      throw_errno("open container directory " + quote(root_ + "/" + name));
    }
    lock_fd(fd.get(), exclusive, id);
    if (is_unlinked(fd.get(), id)) continue;
    UniqueFd root_dup(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!root_dup) throw_errno("dup state root fd");
    return ContainerDir(name, root_ + "/" + name, std::move(fd), std::move(root_dup));
  }
  throw Error("container " + quote(id) + " does not exist", ENOENT);
}

bool StateStore::exists(std::string_view id) const {
  try {
    validate_id(id);
  } catch (const Error&) {
    return false;
  }
  struct stat st {};
  return ::fstatat(root_fd_.get(), std::string(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISDIR(st.st_mode);
}

std::vector<std::string> StateStore::list_ids() const {
  // readdir needs a readable fd; the O_PATH root fd only names the directory.
  int fd = ::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("open state root " + quote(root_));
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    int err = errno;
    ::close(fd);
    throw_errno("open state root " + quote(root_), err);
  }
  std::vector<std::string> ids;
  errno = 0;
  for (dirent* e; (e = ::readdir(dir)); errno = 0) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st {};
      is_dir = ::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISDIR(st.st_mode);
    }
    if (!is_dir) continue;
    try {
      validate_id(name);
    } catch (const Error&) {
      continue;  // not made by us (or by a newer urun with other rules)
    }
    ids.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) throw_errno("read state root " + quote(root_), err);
  std::sort(ids.begin(), ids.end());
  return ids;
}

ContainerDir::ContainerDir(std::string id, std::string path, UniqueFd dir_fd)
    : id_(std::move(id)), path_(std::move(path)), dir_fd_(std::move(dir_fd)) {}

ContainerDir::ContainerDir(std::string id, std::string path, UniqueFd dir_fd, UniqueFd root_fd)
    : id_(std::move(id)),
      path_(std::move(path)),
      dir_fd_(std::move(dir_fd)),
      root_fd_(std::move(root_fd)) {}

void ContainerDir::write(const Record& record) const {
  try {
    fs::write_file_atomic_at(dir_fd_.get(), kStateFile, to_json_text(record), 0600);
  } catch (Error& e) {
    throw e.prepend("save state of container " + quote(id_));
  }
}

void ContainerDir::write_identity(const Record& record, std::string_view config_text) const {
  try {
    fs::write_file_atomic_at(dir_fd_.get(), kIdentityFile, to_json_text(record, config_text), 0600);
  } catch (Error& e) {
    throw e.prepend("save state of container " + quote(id_));
  }
}

LoadedRecord ContainerDir::load() const { return load_record(dir_fd_.get(), id_, path_); }

LoadedRecord ContainerDir::load_identity() const {
  return load_record_file(dir_fd_.get(), kIdentityFile, id_, path_);
}

std::optional<std::string> ContainerDir::read_config() const {
  std::string problem;
  if (auto text = read_record_text(dir_fd_.get(), kIdentityFile, &problem))
    if (auto config = config_of_record(*text, id_)) return config;
  // A container made by an older urun, or restored: its own copy.
  return fs::read_file_at(dir_fd_.get(), kConfigCopy);
}

Record ContainerDir::read() const {
  LoadedRecord loaded = load();
  if (loaded.ok()) return std::move(loaded.record);
  if (loaded.broken())
    throw Error(
        loaded.problem + "; `delete --force " + printable_id(id_) + "` removes the container",
        EUCLEAN);
  throw Error("read " + quote(path_ + "/" + kStateFile) + ": No such file or directory", ENOENT);
}

bool ContainerDir::has_record() const {
  struct stat st {};
  return ::fstatat(dir_fd_.get(), kStateFile, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
         ::fstatat(dir_fd_.get(), kIdentityFile, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void ContainerDir::unlock() const { ::flock(dir_fd_.get(), LOCK_UN); }

bool ContainerDir::relock() const {
  lock_fd(dir_fd_.get(), true, id_);
  return !is_unlinked(dir_fd_.get(), id_);
}

void ContainerDir::remove() {
  UniqueFd parent;
  std::string name = id_;
  int parent_fd = root_fd_.get();
  if (!root_fd_) {
    auto slash = path_.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash == 0 ? 1 : slash);
    if (slash != std::string::npos) name = path_.substr(slash + 1);
    parent = UniqueFd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!parent) throw_errno("remove container " + quote(id_) + ": open " + quote(dir));
    parent_fd = parent.get();
  }
  // Remove only the directory we hold locked: if the name now points at
  // something else, it is not ours to delete.
  struct stat ours {};
  struct stat named {};
  if (::fstat(dir_fd_.get(), &ours) < 0) throw_errno("remove container " + quote(id_));
  if (::fstatat(parent_fd, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    throw_errno("remove container " + quote(id_));
  }
  if (ours.st_dev != named.st_dev || ours.st_ino != named.st_ino)
    throw Error("remove container " + quote(id_) + ": " + quote(path_) +
                " was replaced by another directory");
  try {
    fs::remove_all_at(parent_fd, name);
  } catch (Error& e) {
    throw e.prepend("remove container " + quote(id_));
  }
}

}  // namespace urun::state
