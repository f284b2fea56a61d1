#include "cgroups/cgroupfs/cgroupfs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace urun::cgroups::detail {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

FsType fs_type(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) < 0) return FsType::missing;
  if (st.f_type == CGROUP2_SUPER_MAGIC) return FsType::cgroup2;
  if (st.f_type == CGROUP_SUPER_MAGIC) return FsType::cgroup1;
  return FsType::other;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::vector<std::string> make_cgroup_dirs(const std::string& root, const std::string& path) {
  std::vector<std::string> made;
  // The parents (urun/, a pod's cgroup) are there but for the first container: one mkdir of
  // the leaf instead of one per level (ten hierarchies on a v1 host, each mkdir taking
  // cgroup_mutex). ENOENT: a parent is missing, make them from the top.
  if (path.size() > 1) {
    const std::string leaf = root + (path.back() == '/' ? path.substr(0, path.size() - 1) : path);
    if (::mkdir(leaf.c_str(), 0755) == 0) return {leaf};
    if (errno == EEXIST) return made;
    if (errno != ENOENT) throw_errno("mkdir " + quote(leaf));
  }
  // A parent vanishing between our mkdirs (ENOENT) is another create's clean-up removing
  // the directory it made: start again from the top, a few times.
  for (int attempt = 0;; ++attempt) {
    std::string cur = root;
    size_t pos = 1;
    bool vanished = false;
    while (pos <= path.size() && !vanished) {
      size_t next = path.find('/', pos);
      if (next == std::string::npos) next = path.size();
      if (next > pos) {
        cur += "/" + path.substr(pos, next - pos);
        // 0755: the kernel ignores the mode on cgroupfs, test trees keep it readable.
        if (::mkdir(cur.c_str(), 0755) == 0)
          made.push_back(cur);
        else if (errno == ENOENT && attempt < 3)
          vanished = true;
        else if (errno != EEXIST)
          throw_errno("mkdir " + quote(cur));
      }
      pos = next + 1;
    }
    if (!vanished) return made;
  }
}

void remove_made_dirs(const std::vector<std::string>& made,
                      const std::vector<std::string>& leaves) {
  for (auto it = made.rbegin(); it != made.rend(); ++it) {
    if (std::find(leaves.begin(), leaves.end(), *it) != leaves.end()) {
      remove_cgroup(*it);
    } else if (::rmdir(it->c_str()) < 0 && errno != ENOENT) {
      log::debug("cgroup: leave " + quote(*it) + ": " + std::strerror(errno));
    }
  }
}

namespace {

// O_APPEND changes nothing on cgroupfs (writes have no offset there) but keeps every
// write visible in the regular files of a test tree.
UniqueFd open_knob(const std::string& path) {
  return UniqueFd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
}

void write_value(int fd, const std::string& path, std::string_view value) {
  // One write() per value: cgroup files parse each write as one command.
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("write " + quote(std::string(value)) + " to " + quote(path));
}

}  // namespace

void write_knob(const std::string& path, std::string_view value) {
  UniqueFd fd = open_knob(path);
  if (!fd) throw_errno("open " + quote(path));
  write_value(fd.get(), path, value);
}

namespace {

std::string without_trailing_newline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string read_knob(const std::string& path) {
  return without_trailing_newline(fs::read_file(path));
}

std::optional<std::string> read_knob_if_present(const std::string& path) {
  std::optional<std::string> value = fs::read_file_at(AT_FDCWD, path);
  if (value) *value = without_trailing_newline(std::move(*value));
  return value;
}

void write_planned(const std::string& dir, const Write& w) {
  const std::string path = dir + "/" + w.file;
  // Opened first, asked why only when missing: no existence check per write (a default
  // config alone writes twelve device rules to one file).
  if (UniqueFd fd = open_knob(path)) return write_value(fd.get(), path, w.value);
  if (errno != ENOENT) throw_errno("open " + quote(path));
  if (!w.fallback_file.empty() && exists(dir + "/" + w.fallback_file)) {
    write_knob(dir + "/" + w.fallback_file, w.fallback_value);
    return;
  }
  if (w.optional) {
    log::debug("cgroup: skip " + w.file + " (not supported by this kernel)");
    return;
  }
  std::string why = !w.missing_reason.empty() ? w.missing_reason
                    : w.controller.empty()
                        ? "file not present"
                        : "controller " + quote(w.controller) + " is not available in this cgroup";
  throw Error("write " + quote(path) + ": " + why, ENOENT);
}

void PlannedWriter::write(const std::string& dir, const Write& w) {
  const std::string path = dir + "/" + w.file;
  if (fd_ && path == path_) return write_value(fd_.get(), path, w.value);
  fd_.reset();
  path_.clear();
  UniqueFd fd = open_knob(path);
  if (!fd) return write_planned(dir, w);  // its fallback, or its error
  write_value(fd.get(), path, w.value);
  fd_ = std::move(fd);
  path_ = path;
}

namespace {

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  for (dirent* e; (e = ::readdir(d));) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st {};
      is_dir = ::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) out.push_back(std::move(name));
  }
  ::closedir(d);
  return out;
}

}  // namespace

void collect_procs(const std::string& dir, std::vector<pid_t>& out) {
  std::string text;
  try {
    text = fs::read_file(dir + "/cgroup.procs");
  } catch (const Error& e) {
    if (e.code() == ENOENT || e.code() == ENODEV) return;  // removed meanwhile
    throw;
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) out.push_back(static_cast<pid_t>(std::stol(text.substr(pos, end - pos))));
    pos = end + 1;
  }
  for (const auto& sub : subdirs(dir)) collect_procs(dir + "/" + sub, out);
}

void refuse_processes(const std::string& dir) {
  std::vector<pid_t> pids;
  collect_procs(dir, pids);
  if (!pids.empty())
    throw Error("cgroup " + quote(dir) + " already has processes (" + std::to_string(pids.size()) +
                    "): is another container using it?",
                EBUSY);
}

void refuse_frozen(const std::string& dir) {
  auto read = [&dir](const char* name) {
    std::optional<std::string> text = fs::read_file_at(AT_FDCWD, dir + "/" + name);
    while (text && !text->empty() && (text->back() == '\n' || text->back() == ' '))
      text->pop_back();
    return text;
  };
  bool frozen = false;
  if (auto state = read("freezer.state")) frozen = *state == "FROZEN" || *state == "FREEZING";
  if (auto freeze = read("cgroup.freeze")) frozen |= *freeze == "1";
  if (auto events = read("cgroup.events")) frozen |= events->find("frozen 1") != std::string::npos;
  if (frozen)
    throw Error("cgroup " + quote(dir) + " is frozen: a container started in it would hang", EBUSY);
}

void remove_cgroup(const std::string& dir, std::chrono::milliseconds patience) {
  if (!exists(dir)) return;
  for (const auto& sub : subdirs(dir)) remove_cgroup(dir + "/" + sub, patience);
  const auto deadline = std::chrono::steady_clock::now() + patience;
  // A task reaped a moment ago is usually released within microseconds: poll
  // fast first (container start-up and run's exit wait on this), then back off.
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno == ENOTEMPTY && fs_type(dir) == FsType::other) {
      // A test tree on an ordinary file system: its knob files are real files. On
      // cgroupfs ENOTEMPTY cannot come from files, so this never deletes real data there.
      UniqueFd parent(::open((dir + "/..").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!parent) throw_errno("open " + quote(dir + "/.."));
      fs::remove_all_at(parent.get(), dir.substr(dir.rfind('/') + 1));
      return;
    }
    // EBUSY: tasks that just died may still be attached until they are released.
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline)
      throw_errno("remove cgroup " + quote(dir));
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
  }
}

}  // namespace urun::cgroups::detail
