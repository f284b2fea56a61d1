#include "harness.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace urun_it {
namespace {

constexpr const char* kUserName = "urun-test";
constexpr const char* kCacheDir = "/tmp/urun-it-cache";
constexpr const char* kSubIdRange = ":200000:65536";
constexpr const char* kPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

World* g_world = nullptr;

[[noreturn]] void fail(const std::string& msg) {
  throw std::runtime_error(msg + (errno ? std::string(": ") + std::strerror(errno) : ""));
}

// Serialises set-up steps between test processes that ctest may run in parallel.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0) fail("open lock " + path);
    if (::flock(fd_, LOCK_EX) != 0) fail("flock " + path);
  }
  ~FileLock() { ::close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// The cache dir lives in /tmp: refuse it unless it is a real directory owned by root.
void ensure_root_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) fail("mkdir " + path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) fail("lstat " + path);
  if (!S_ISDIR(st.st_mode) || st.st_uid != 0) {
    errno = 0;
    fail(path + " is not a directory owned by root; remove it");
  }
  ::chmod(path.c_str(), mode);
}

std::string resolve_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return name;
}

std::string hex_hash(const std::string& data) {
  std::ostringstream os;
  os << std::hex << std::hash<std::string>{}(data);
  return os.str();
}

void append_line_if_missing(const std::string& file, const std::string& prefix,
                            const std::string& line) {
  std::string content = path_exists(file) ? read_file(file) : "";
  for (const auto& l : split_lines(content)) {
    if (l.rfind(prefix, 0) == 0) return;
  }
  std::ofstream os(file, std::ios::app);
  if (!content.empty() && content.back() != '\n') os << '\n';
  os << line << '\n';
  if (!os) fail("append to " + file);
}

std::string join(const std::vector<std::string>& v, const std::string& sep = " ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

int g_io_counter = 0;

std::pair<uint32_t, uint32_t> read_subid_range(const std::string& file, const std::string& user) {
  for (const auto& line : split_lines(path_exists(file) ? read_file(file) : "")) {
    if (line.rfind(user + ":", 0) != 0) continue;
    std::istringstream is(line.substr(user.size() + 1));
    uint32_t start = 0, count = 0;
    char colon = 0;
    if (is >> start >> colon >> count && colon == ':') return {start, count};
  }
  return {0, 0};
}

}  // namespace

std::string to_string(Mode mode) { return mode == Mode::root ? "root" : "rootless"; }

std::string param_name(const ::testing::TestParamInfo<Mode>& info) { return to_string(info.param); }

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string read_file(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  std::ostringstream os;
  os << is.rdbuf();
  return os.str();
}

void write_file(const std::string& path, const std::string& data, mode_t mode) {
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  os << data;
  os.close();
  if (!os) throw std::runtime_error("write " + path);
  ::chmod(path.c_str(), mode);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream is(s);
  std::string line;
  while (std::getline(is, line)) lines.push_back(line);
  return lines;
}

bool pid_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0) return errno == EPERM;
  // A zombie is not alive for our purposes.
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  size_t p = stat.rfind(')');
  return p == std::string::npos || p + 2 >= stat.size() || stat[p + 2] != 'Z';
}

std::string status_field(const std::string& status_text, const std::string& key) {
  for (const auto& line : split_lines(status_text)) {
    if (line.rfind(key + ":", 0) == 0) return trim(line.substr(key.size() + 1));
  }
  return "<missing " + key + ">";
}

std::vector<std::string> host_mounts_under(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(read_file("/proc/self/mountinfo"))) {
    std::istringstream is(line);
    std::string id, parent, devno, root, mnt;
    is >> id >> parent >> devno >> root >> mnt;
    std::string decoded;
    for (size_t i = 0; i < mnt.size(); ++i) {
      if (mnt[i] == '\\' && i + 3 < mnt.size()) {
        decoded += static_cast<char>(std::stoi(mnt.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        decoded += mnt[i];
      }
    }
    if (decoded == prefix || decoded.rfind(prefix + "/", 0) == 0) out.push_back(decoded);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processes

std::string Result::read_out() const { return out_path.empty() ? out : read_file(out_path); }
std::string Result::read_err() const { return err_path.empty() ? err : read_file(err_path); }

std::vector<std::string> Result::err_lines() const {
  std::vector<std::string> lines;
  for (const auto& l : split_lines(err)) {
    if (!trim(l).empty()) lines.push_back(l);
  }
  return lines;
}

std::string Result::describe() const {
  std::ostringstream os;
  os << "command: " << command << "\nexit: " << exit_code << "\nstdout: " << out
     << "\nstderr: " << err;
  return os.str();
}

Proc::Proc(Proc&& other) noexcept
    : pid_(other.pid_), result_(std::move(other.result_)), status_(other.status_) {
  other.pid_ = -1;
}

Proc& Proc::operator=(Proc&& other) noexcept {
  if (this != &other) {
    this->~Proc();
    pid_ = other.pid_;
    result_ = std::move(other.result_);
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

Proc::~Proc() {
  if (pid_ > 0 && !status_) {
    kill_group(SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

bool Proc::running() {
  if (pid_ <= 0 || status_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

void Proc::kill_group(int sig) {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, sig);
    ::kill(pid_, sig);
  }
}

Result Proc::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(1);
  bool timed_out = false;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      timed_out = true;
      kill_group(SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      status_ = st;
      break;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(10));
  }
  Result r = result_;
  if (timed_out || !status_) {
    r.exit_code = -1;
  } else if (WIFEXITED(*status_)) {
    r.exit_code = WEXITSTATUS(*status_);
  } else if (WIFSIGNALED(*status_)) {
    r.exit_code = 128 + WTERMSIG(*status_);
  }
  r.out = read_file(r.out_path);
  r.err = read_file(r.err_path);
  if (timed_out) r.err += "\n<urun-it: timed out after " + std::to_string(timeout.count()) + "ms>";
  return r;
}

Proc spawn_as(const Identity& id, const std::vector<std::string>& argv_in,
              const std::string& io_dir, const RunOptions& opts) {
  std::vector<std::string> argv = argv_in;
  argv[0] = resolve_in_path(argv[0]);
  std::vector<std::string> env = {kPath, "HOME=" + id.home, "USER=" + id.name,
                                  "LOGNAME=" + id.name};
  if (!id.is_root()) env.push_back("XDG_RUNTIME_DIR=/run/user/" + std::to_string(id.uid));
  for (const auto& e : opts.extra_env) {
    // A variable given again (PATH) replaces the default: getenv would find the first.
    const std::string name = e.substr(0, e.find('=') + 1);
    std::erase_if(env, [&](const std::string& v) { return v.rfind(name, 0) == 0; });
    env.push_back(e);
  }

  int n = ++g_io_counter;
  Result partial;
  partial.command = join(argv_in);
  partial.out_path = io_dir + "/" + std::to_string(n) + ".out";
  partial.err_path = io_dir + "/" + std::to_string(n) + ".err";
  std::string in_path = "/dev/null";
  if (opts.stdin_data) {
    in_path = io_dir + "/" + std::to_string(n) + ".in";
    write_file(in_path, *opts.stdin_data);
  }
  int in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out_fd = ::open(partial.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(partial.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) fail("open stdio files in " + io_dir);

  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  std::string cwd = opts.cwd;
  std::vector<const char*> join_cgroups;
  for (const auto& f : opts.join_cgroups) join_cgroups.push_back(f.c_str());

  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    ::setpgid(0, 0);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(125);
    for (const char* procs : join_cgroups) {
      // "0": the writing process itself.
      int fd = ::open(procs, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) _exit(124);
      ::close(fd);
    }
    if (!id.is_root()) {
      if (::setgroups(id.groups.size(), id.groups.data()) != 0) _exit(126);
      if (::setresgid(id.gid, id.gid, id.gid) != 0) _exit(126);
      if (::setresuid(id.uid, id.uid, id.uid) != 0) _exit(126);
    }
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  ::setpgid(pid, pid);
  ::close(in_fd);
  ::close(out_fd);
  ::close(err_fd);
  return Proc(pid, partial);
}

Result run_as(const Identity& id, const std::vector<std::string>& argv, const std::string& io_dir,
              const RunOptions& opts) {
  Proc p = spawn_as(id, argv, io_dir, opts);
  return p.wait(opts.timeout);
}

std::string host_sh(const std::string& script) {
  std::string io = World::get().dir() + "/io";
  Result r = run_as(Identity{}, {"/bin/sh", "-c", script}, io, RunOptions{.cwd = "/"});
  if (r.exit_code != 0) throw std::runtime_error("host command failed: " + r.describe());
  return r.out;
}

void remove_cgroup_trees(const std::vector<std::string>& dirs) {
  std::string list;
  for (const auto& d : dirs) list += " '" + d + "'";
  host_sh("for d in" + list +
          "; do [ -d \"$d\" ] || continue; for c in $(find \"$d\" -type d); do "
          "[ ! -f $c/freezer.state ] || echo THAWED > $c/freezer.state; "
          "[ ! -f $c/cgroup.freeze ] || echo 0 > $c/cgroup.freeze; "
          "for p in $(cat $c/cgroup.procs); do kill -9 $p; done; done; done; "
          "for i in $(seq 50); do left=; for d in" +
          list +
          "; do [ ! -d \"$d\" ] || find \"$d\" -depth -type d -exec rmdir {} + 2>/dev/null; "
          "[ ! -d \"$d\" ] || left=1; done; [ -n \"$left\" ] || break; sleep 0.1; done; true");
}

// ---------------------------------------------------------------------------------------------
// World

World& World::get() {
  if (!g_world) g_world = new World();
  return *g_world;
}

World::World() {
  const char* env_rt = std::getenv("URUN_TEST_RUNTIME");
  std::string src = (env_rt && *env_rt) ? env_rt : URUN_IT_DEFAULT_RUNTIME;
  src = resolve_in_path(src);
  if (::access(src.c_str(), X_OK) != 0) fail("runtime under test " + src + " is not executable");

  char tmpl[] = "/tmp/urun-it-XXXXXX";
  if (!::mkdtemp(tmpl)) fail("mkdtemp");
  dir_ = tmpl;
  ::chmod(dir_.c_str(), 0755);
  ::mkdir((dir_ + "/io").c_str(), 0755);

  // The unprivileged user cannot enter the checkout (often under /root): run a copy.
  runtime_ = dir_ + "/" + fs::path(src).filename().string();
  fs::copy_file(src, runtime_, fs::copy_options::overwrite_existing);
  ::chmod(runtime_.c_str(), 0755);

  Result v = run_as(Identity{}, {runtime_, "--version"}, dir_ + "/io", RunOptions{.cwd = "/"});
  version_ = trim(v.out);
  is_runc_ = version_.rfind("runc", 0) == 0;

  ensure_root_dir(kCacheDir, 0755);
  {
    FileLock lock(std::string(kCacheDir) + "/.lock");

    // Rootfs, rebuilt when make-rootfs changes.
    std::string script = std::string(URUN_IT_SOURCE_DIR) + "/scripts/make-rootfs";
    rootfs_ = std::string(kCacheDir) + "/rootfs-" + hex_hash(read_file(script));
    if (!path_exists(rootfs_ + "/.urun-it-complete")) {
      std::string tmp = rootfs_ + ".tmp";
      fs::remove_all(tmp);
      fs::remove_all(rootfs_);
      Result r = run_as(Identity{}, {script, tmp}, dir_ + "/io", RunOptions{.cwd = "/"});
      if (r.exit_code != 0) {
        errno = 0;
        fail("make-rootfs failed: " + r.describe());
      }
      // Fixed mount points and data the tests use, so the shared rootfs stays read-only.
      for (const char* d : {"mnt/a", "mnt/b", "mnt/c", "opt/masked", "opt/ro"}) {
        fs::create_directories(tmp + "/" + d);
      }
      write_file(tmp + "/opt/masked/secret", "secret\n");
      write_file(tmp + "/opt/ro/data", "data\n");
      run_as(Identity{}, {"chmod", "-R", "a+rX", tmp}, dir_ + "/io", RunOptions{.cwd = "/"});
      write_file(tmp + "/.urun-it-complete", "");
      fs::rename(tmp, rootfs_);
    }

    // The unprivileged user.
    struct passwd* pw = ::getpwnam(kUserName);
    if (!pw) {
      Result r = run_as(Identity{},
                        {"useradd", "--create-home", "--home-dir", "/home/urun-test", "--shell",
                         "/bin/sh", "--user-group", kUserName},
                        dir_ + "/io", RunOptions{.cwd = "/"});
      if (r.exit_code != 0) {
        errno = 0;
        fail("useradd failed: " + r.describe());
      }
      pw = ::getpwnam(kUserName);
      if (!pw) fail("user urun-test missing after useradd");
    }
    user_.uid = pw->pw_uid;
    user_.gid = pw->pw_gid;
    user_.name = pw->pw_name;
    user_.home = pw->pw_dir;
    append_line_if_missing("/etc/subuid", std::string(kUserName) + ":",
                           std::string(kUserName) + kSubIdRange);
    append_line_if_missing("/etc/subgid", std::string(kUserName) + ":",
                           std::string(kUserName) + kSubIdRange);
    subuid_ = read_subid_range("/etc/subuid", kUserName);
    subgid_ = read_subid_range("/etc/subgid", kUserName);
    if (subuid_.second == 0 || subgid_.second == 0) {
      errno = 0;
      fail("no subordinate id range for urun-test in /etc/subuid or /etc/subgid");
    }
    std::string run_user = "/run/user/" + std::to_string(user_.uid);
    ::mkdir("/run/user", 0755);
    if (::mkdir(run_user.c_str(), 0700) != 0 && errno != EEXIST) fail("mkdir " + run_user);
    if (::chown(run_user.c_str(), user_.uid, user_.gid) != 0) fail("chown " + run_user);
    ::chmod(run_user.c_str(), 0700);
  }
  int ngroups = 64;
  std::vector<gid_t> groups(ngroups);
  if (::getgrouplist(user_.name.c_str(), user_.gid, groups.data(), &ngroups) < 0) ngroups = 0;
  groups.resize(ngroups);
  if (groups.empty()) groups.push_back(user_.gid);
  user_.groups = groups;
}

Identity World::identity(Mode mode) const { return mode == Mode::root ? Identity{} : user_; }

std::string World::new_test_dir(Mode mode) {
  Identity id = identity(mode);
  std::string d = dir_ + "/t" + std::to_string(++counter_);
  if (::mkdir(d.c_str(), 0755) != 0) fail("mkdir " + d);
  if (::mkdir((d + "/state").c_str(), 0700) != 0) fail("mkdir state");
  if (::mkdir((d + "/io").c_str(), 0755) != 0) fail("mkdir io");
  if (::chown(d.c_str(), id.uid, id.gid) != 0 || ::chown((d + "/state").c_str(), id.uid, id.gid))
    fail("chown " + d);
  return d;
}

void World::remove_dir() {
  if (dir_.empty() || std::getenv("URUN_IT_KEEP")) return;
  auto mounts = host_mounts_under(dir_);
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

namespace {
class CleanupEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (g_world) g_world->remove_dir();
  }
};
[[maybe_unused]] ::testing::Environment* const kCleanupEnv =
    ::testing::AddGlobalTestEnvironment(new CleanupEnvironment);
}  // namespace

// ---------------------------------------------------------------------------------------------
// Runtime

std::vector<std::string> Runtime::argv(const std::vector<std::string>& args) const {
  std::vector<std::string> v = {World::get().runtime(), "--root", state_root_};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

Result Runtime::run(const std::vector<std::string>& args, RunOptions opts) {
  if (opts.cwd.empty()) opts.cwd = test_dir_;
  return run_as(id_, argv(args), test_dir_ + "/io", opts);
}

Proc Runtime::spawn(const std::vector<std::string>& args, RunOptions opts) {
  if (opts.cwd.empty()) opts.cwd = test_dir_;
  return spawn_as(id_, argv(args), test_dir_ + "/io", opts);
}

Json Runtime::state(const std::string& id) {
  Result r = run({"state", id});
  if (r.exit_code != 0) return Json::object();
  try {
    return Json::parse(r.out);
  } catch (const std::exception&) {
    return Json::object();
  }
}

std::string Runtime::status(const std::string& id) {
  Json s = state(id);
  if (!s.contains("status") || !s["status"].is_string()) return "";
  return s["status"].get<std::string>();
}

std::string Runtime::wait_status(const std::string& id, const std::string& want,
                                 std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string st;
  while (true) {
    st = status(id);
    if (st == want || std::chrono::steady_clock::now() > deadline) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<std::string> Runtime::list_ids() {
  std::vector<std::string> ids;
  Result r = run({"list", "-q"});
  for (const auto& l : split_lines(r.out)) {
    if (!trim(l).empty()) ids.push_back(trim(l));
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Bundle

void Bundle::save() const { write_file(dir + "/" + config_name, config.dump(2)); }

void Bundle::set_args(const std::vector<std::string>& args) { config["process"]["args"] = args; }

void Bundle::add_env(const std::string& kv) { config["process"]["env"].push_back(kv); }

void Bundle::add_mount(const Json& mount) { config["mounts"].push_back(mount); }

void Bundle::add_namespace(const std::string& type) {
  if (!has_namespace(type)) config["linux"]["namespaces"].push_back({{"type", type}});
}

bool Bundle::has_namespace(const std::string& type) const {
  if (!config.contains("linux") || !config["linux"].contains("namespaces")) return false;
  for (const auto& ns : config["linux"]["namespaces"]) {
    if (ns.value("type", "") == type) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Fixture

void IntegrationTest::SetUp() {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "integration tests need root: they create the user " << kUserName
                 << " and run the runtime both as root and as that user";
  }
  try {
    world_ = &World::get();
  } catch (const std::exception& e) {
    FAIL() << "integration set-up failed: " << e.what();
  }
  if (rootless() && trim(read_file("/proc/sys/user/max_user_namespaces")) == "0") {
    GTEST_SKIP() << "user namespaces are disabled (user.max_user_namespaces = 0)";
  }
  identity_ = world_->identity(mode());
  dir_ = world_->new_test_dir(mode());
  rt_ = std::make_unique<Runtime>(identity_, dir_ + "/state", dir_);
}

void IntegrationTest::TearDown() {
  if (!rt_) return;
  // Delete whatever the test left, even when it failed half-way.
  std::vector<std::string> ids = rt_->list_ids();
  for (const auto& e : state_entries()) {
    if (std::find(ids.begin(), ids.end(), e) == ids.end()) ids.push_back(e);
  }
  for (const auto& id : ids)
    rt_->run({"delete", "--force", id}, RunOptions{.timeout = std::chrono::seconds(5)});
  for (pid_t pid : leftover_processes()) ::kill(pid, SIGKILL);
  wait_no_leftovers(std::chrono::milliseconds(2000));
  auto mounts = host_mounts_under(dir_);
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  if (!std::getenv("URUN_IT_KEEP")) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  rt_.reset();
}

Bundle IntegrationTest::make_bundle(const BundleOptions& opts) {
  Bundle b;
  b.dir = dir_ + "/" + opts.name;
  if (::mkdir(b.dir.c_str(), 0755) != 0) throw std::runtime_error("mkdir " + b.dir);
  if (::chown(b.dir.c_str(), identity_.uid, identity_.gid) != 0)
    throw std::runtime_error("chown " + b.dir);
  std::vector<std::string> args = {"spec"};
  if (rootless()) args.push_back("--rootless");
  Result r = rt_->run(args, RunOptions{.cwd = b.dir});
  if (r.exit_code != 0) throw std::runtime_error("spec failed: " + r.describe());
  b.config = Json::parse(read_file(b.dir + "/config.json"));
  if (rootless() && !opts.network) {
    // `spec --rootless` asks for a network namespace connected by slirp4netns; tests that do
    // not test that get the bundle crun's and runc's `spec --rootless` write (the host's
    // network), which needs no helper process per container.
    if (b.config.contains("annotations")) {
      b.config["annotations"].erase("run.urun.network");
      if (b.config["annotations"].empty()) b.config.erase("annotations");
    }
    auto& nss = b.config["linux"]["namespaces"];
    for (auto it = nss.begin(); it != nss.end();) {
      if (it->value("type", "") == "network")
        it = nss.erase(it);
      else
        ++it;
    }
  }

  if (opts.writable_rootfs) {
    b.rootfs = b.dir + "/rootfs";
    host_sh("cp -a '" + world_->rootfs() + "' '" + b.rootfs + "' && rm -f '" + b.rootfs +
            "/.urun-it-complete'" +
            (rootless() ? " && chown -R " + std::to_string(identity_.uid) + ":" +
                              std::to_string(identity_.gid) + " '" + b.rootfs + "'"
                        : std::string()));
  } else {
    b.rootfs = world_->rootfs();
  }
  b.config["root"] = {{"path", b.rootfs}, {"readonly", !opts.writable_rootfs}};
  b.config["process"]["terminal"] = false;
  b.add_env(token());
  b.save();
  ::chown((b.dir + "/config.json").c_str(), identity_.uid, identity_.gid);
  return b;
}

void IntegrationTest::map_subordinate_ids(Bundle& b) const {
  if (!rootless()) return;
  auto [uid_start, uid_count] = world_->subuid();
  auto [gid_start, gid_count] = world_->subgid();
  b.config["linux"]["uidMappings"] =
      Json::array({{{"containerID", 0}, {"hostID", identity_.uid}, {"size", 1}},
                   {{"containerID", 1}, {"hostID", uid_start}, {"size", uid_count}}});
  b.config["linux"]["gidMappings"] =
      Json::array({{{"containerID", 0}, {"hostID", identity_.gid}, {"size", 1}},
                   {{"containerID", 1}, {"hostID", gid_start}, {"size", gid_count}}});
}

std::string IntegrationTest::make_host_dir(const std::string& name, mode_t mode) {
  std::string d = dir_ + "/" + name;
  if (::mkdir(d.c_str(), mode) != 0) throw std::runtime_error("mkdir " + d);
  ::chmod(d.c_str(), mode);
  if (::chown(d.c_str(), identity_.uid, identity_.gid) != 0) throw std::runtime_error("chown " + d);
  return d;
}

Result IntegrationTest::run_container(const Bundle& b, const std::string& id, RunOptions opts) {
  std::vector<std::string> args = {"run", "--bundle", b.dir};
  if (b.config_name != "config.json") {
    args.push_back("--config");
    args.push_back(b.dir + "/" + b.config_name);
  }
  args.push_back(id);
  return rt_->run(args, std::move(opts));
}

Result IntegrationTest::create(const Bundle& b, const std::string& id,
                               std::vector<std::string> extra) {
  std::vector<std::string> args = {"create", "--bundle", b.dir};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  return rt_->run(args);
}

void IntegrationTest::start_sleeping(Bundle& b, const std::string& id) {
  b.set_args({"sleep", "1000"});
  b.save();
  Result c = create(b, id);
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(rt_->run({"start", id}));
}

Result IntegrationTest::exec(std::vector<std::string> args) {
  args.insert(args.begin(), "exec");
  return rt_->run(args);
}

std::vector<std::string> IntegrationTest::state_entries() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ + "/state", ec)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<pid_t> IntegrationTest::leftover_processes() const {
  std::vector<pid_t> out;
  std::string tok = token();
  std::string runtime_prefix = world_->dir() + "/";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    pid_t pid = std::stoi(name);
    if (pid == ::getpid() || !pid_alive(pid)) continue;
    std::string environ = read_file("/proc/" + name + "/environ");
    bool match = false;
    size_t pos = 0;
    while (pos < environ.size()) {
      size_t end = environ.find('\0', pos);
      if (end == std::string::npos) end = environ.size();
      if (environ.compare(pos, end - pos, tok) == 0) match = true;
      pos = end + 1;
    }
    std::string cmdline = read_file("/proc/" + name + "/cmdline");
    if (cmdline.rfind(runtime_prefix, 0) == 0) match = true;
    if (match) out.push_back(pid);
  }
  return out;
}

std::vector<pid_t> IntegrationTest::wait_no_leftovers(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = leftover_processes();
    if (left.empty() || std::chrono::steady_clock::now() > deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void IntegrationTest::expect_clean_failure(const Result& r, const std::string& what,
                                           bool check_naming) {
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.exit_code, -1) << "timed out\n" << r.describe();
  auto lines = r.err_lines();
  if (is_runc()) {
    // runc adds warnings (e.g. about cgroups in rootless mode) before its error line.
    std::erase_if(lines, [](const std::string& l) { return l.find("level=warning") != l.npos; });
  }
  EXPECT_EQ(lines.size(), 1u) << "want exactly one line on stderr\n" << r.describe();
  if (check_naming && !is_runc() && !lines.empty()) {
    EXPECT_NE(lines[0].find(what), std::string::npos) << "the error should name `" << what << "`\n"
                                                      << r.describe();
  }
  EXPECT_TRUE(state_entries().empty())
      << "state dir not empty after a failed command: " << join(state_entries());
  auto left = wait_no_leftovers();
  EXPECT_TRUE(left.empty()) << "leftover processes: " << left.size();
}

std::string IntegrationTest::wait_file_contains(const std::string& path, const std::string& text,
                                                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::string content = read_file(path);
    if (content.find(text) != std::string::npos || std::chrono::steady_clock::now() > deadline)
      return content;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace urun_it
