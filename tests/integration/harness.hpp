// Fixture library for the integration tests: drives the runtime binary under test on real bundles,
// as root or as the unprivileged user `urun-test`.
//
// Layout of one test process (ctest runs one test per process):
//   /tmp/urun-it-cache/rootfs        busybox rootfs built once by scripts/make-rootfs, shared
//   read-only /tmp/urun-it-XXXXXX/             mode 0755, removed at exit
//     <runtime>                      copy of the runtime binary (the user cannot enter the
//     checkout) t<N>/                          one per test, owned by the user in rootless mode
//       state/                       the runtime's --root
//       io/                          stdout/stderr of every runtime call
//       <bundle>/config.json
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace urun_it {

using Json = nlohmann::json;

enum class Mode { root, rootless };
std::string to_string(Mode mode);

// The identity runtime calls run as.
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name = "root";
  std::string home = "/root";
  std::vector<gid_t> groups;
  bool is_root() const { return uid == 0; }
};

// Process-wide set-up, made on first use: temp dir, runtime copy, shared rootfs, test user.
class World {
 public:
  static World& get();  // throws std::runtime_error with the reason if set-up fails
  const std::string& dir() const { return dir_; }
  const std::string& runtime() const { return runtime_; }
  const std::string& rootfs() const { return rootfs_; }
  const std::string& runtime_version() const { return version_; }
  bool is_runc() const { return is_runc_; }
  const Identity& user() const { return user_; }
  Identity identity(Mode mode) const;
  // The user's first subordinate range from /etc/subuid and /etc/subgid: {start, count}.
  std::pair<uint32_t, uint32_t> subuid() const { return subuid_; }
  std::pair<uint32_t, uint32_t> subgid() const { return subgid_; }
  std::string new_test_dir(Mode mode);
  void remove_dir();

 private:
  World();
  std::string dir_, runtime_, rootfs_, version_;
  bool is_runc_ = false;
  Identity user_;
  std::pair<uint32_t, uint32_t> subuid_{0, 0}, subgid_{0, 0};
  int counter_ = 0;
};

struct Result {
  int exit_code = -1;  // exit status, 128+N when killed by signal N, -1 on timeout
  std::string out, err;
  std::string out_path, err_path;
  std::string command;           // for messages
  std::string read_out() const;  // re-reads stdout (the container may still be writing to it)
  std::string read_err() const;
  std::vector<std::string> err_lines() const;  // non-empty lines of stderr
  std::string describe() const;
};

struct RunOptions {
  std::optional<std::string> stdin_data;
  std::string cwd;  // default: the test dir
  std::chrono::milliseconds timeout{10000};
  std::vector<std::string> extra_env;  // NAME=value
  // cgroup.procs files the spawned process moves itself into, as root before it takes the
  // identity: the runtime then runs inside a cgroup the test delegated to the user.
  std::vector<std::string> join_cgroups;
};

// A running command started by spawn().
class Proc {
 public:
  Proc() = default;
  Proc(pid_t pid, Result partial) : pid_(pid), result_(std::move(partial)) {}
  Proc(Proc&& other) noexcept;
  Proc& operator=(Proc&& other) noexcept;
  ~Proc();
  pid_t pid() const { return pid_; }
  bool running();
  // Waits for exit; on timeout kills the process group and returns exit_code -1.
  Result wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  void kill_group(int sig);

 private:
  pid_t pid_ = -1;
  Result result_;
  std::optional<int> status_;
};

// Runs a command in an identity with stdio redirected to files of `io_dir`.
Proc spawn_as(const Identity& id, const std::vector<std::string>& argv, const std::string& io_dir,
              const RunOptions& opts);
Result run_as(const Identity& id, const std::vector<std::string>& argv, const std::string& io_dir,
              const RunOptions& opts = {});
// Runs a shell command as root on the host, failing the test on non-zero exit.
std::string host_sh(const std::string& script);
// Removes cgroup directories with everything below them, whatever state a failed test left
// them in: thawed (v1 freezer.state, v2 cgroup.freeze), processes killed, then removed
// deepest first (retried while the killed processes are released). Missing ones are skipped.
void remove_cgroup_trees(const std::vector<std::string>& dirs);

class Runtime {
 public:
  Runtime(Identity id, std::string state_root, std::string test_dir)
      : id_(std::move(id)), state_root_(std::move(state_root)), test_dir_(std::move(test_dir)) {}
  // `<runtime> --root <state> args...`
  Result run(const std::vector<std::string>& args, RunOptions opts = {});
  Proc spawn(const std::vector<std::string>& args, RunOptions opts = {});
  // `state ID` parsed; empty object when the command fails.
  Json state(const std::string& id);
  std::string status(const std::string& id);
  // Polls `state` until status == want; returns the last status seen.
  std::string wait_status(const std::string& id, const std::string& want,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  const std::string& state_root() const { return state_root_; }
  const Identity& identity() const { return id_; }
  std::vector<std::string> list_ids();

 private:
  std::vector<std::string> argv(const std::vector<std::string>& args) const;
  Identity id_;
  std::string state_root_, test_dir_;
};

struct Bundle {
  std::string dir;
  std::string rootfs;  // absolute
  Json config;
  std::string config_name = "config.json";
  void save() const;
  std::string path(const std::string& rel) const { return dir + "/" + rel; }
  // Convenience editors.
  void set_args(const std::vector<std::string>& args);
  void sh(const std::string& script) { set_args({"sh", "-c", script}); }
  void add_env(const std::string& kv);
  void add_mount(const Json& mount);
  void add_namespace(const std::string& type);
  bool has_namespace(const std::string& type) const;
};

struct BundleOptions {
  std::string name = "bundle";
  bool writable_rootfs = false;  // private copy of the rootfs, root.readonly false
  // Rootless: keep the network namespace and run.urun.network annotation `spec --rootless`
  // writes (other tests get the host's network, as crun's and runc's rootless specs give).
  bool network = false;
};

class IntegrationTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Mode mode() const { return GetParam(); }
  bool rootless() const { return GetParam() == Mode::rootless; }
  World& world() { return *world_; }
  Runtime& rt() { return *rt_; }
  bool is_runc() const { return world_->is_runc(); }
  const std::string& dir() const { return dir_; }
  const Identity& identity() const { return identity_; }

  Bundle make_bundle(const BundleOptions& opts = {});
  // Makes a directory in the test dir owned by the mode's identity.
  std::string make_host_dir(const std::string& name, mode_t mode = 0755);
  // In rootless mode, maps the user's subordinate ranges from id 1 (beside the user as root) so
  // that non-zero ids exist in the container.
  void map_subordinate_ids(Bundle& b) const;
  // Runs `run ID` in the foreground and returns the result (stdout is the container's).
  Result run_container(const Bundle& b, const std::string& id, RunOptions opts = {});
  // `create --bundle DIR [extra...] ID`. The result's out_path keeps receiving the container's
  // stdout after `start` (the container inherits the create call's stdio).
  Result create(const Bundle& b, const std::string& id, std::vector<std::string> extra = {});
  // Saves `b` running `sleep 1000`, then creates and starts it as `id` (fatal failures: call
  // through ASSERT_NO_FATAL_FAILURE).
  void start_sleeping(Bundle& b, const std::string& id);
  // `exec ARGS...`.
  Result exec(std::vector<std::string> args);

  // Entries of the --root dir (should be empty after a failed create).
  std::vector<std::string> state_entries() const;
  // Processes left behind by this test: the container processes carry the test's token in their
  // environment, the runtime's helpers run our copy of the runtime binary.
  std::vector<pid_t> leftover_processes() const;
  // Polls until no leftover process remains; returns those still there after the timeout.
  std::vector<pid_t> wait_no_leftovers(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) const;
  // Asserts the standard error contract: non-zero exit, exactly one line on stderr which names
  // `what` (the wording check is skipped for runc, whose messages differ), an empty state dir
  // and no leftover process.
  void expect_clean_failure(const Result& r, const std::string& what, bool check_naming = true);
  // Waits for `text` in a file (a container's output); returns the content.
  std::string wait_file_contains(
      const std::string& path, const std::string& text,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  std::string token() const { return "URUN_IT_TOKEN=" + dir_; }

 private:
  World* world_ = nullptr;
  Identity identity_;
  std::string dir_;
  std::unique_ptr<Runtime> rt_;
};

std::string param_name(const ::testing::TestParamInfo<Mode>& info);

// Helpers.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data, mode_t mode = 0644);
bool path_exists(const std::string& path);
std::string trim(const std::string& s);
std::vector<std::string> split_lines(const std::string& s);
bool pid_alive(pid_t pid);
// Value of a "Key:\tvalue" line of /proc/.../status output.
std::string status_field(const std::string& status_text, const std::string& key);
// Mount points under `prefix` in this (host) mount namespace.
std::vector<std::string> host_mounts_under(const std::string& prefix);

}  // namespace urun_it

// Assert/expect that a runtime call (a Result expression) exits 0, printing its stderr otherwise.
#define ASSERT_RUN_OK(expr)                                      \
  do {                                                           \
    const ::urun_it::Result urun_it_r_ = (expr);                 \
    ASSERT_EQ(urun_it_r_.exit_code, 0) << urun_it_r_.describe(); \
  } while (0)
#define EXPECT_RUN_OK(expr)                                      \
  do {                                                           \
    const ::urun_it::Result urun_it_r_ = (expr);                 \
    EXPECT_EQ(urun_it_r_.exit_code, 0) << urun_it_r_.describe(); \
  } while (0)

// For behaviour that exists in one mode only (the automatic user namespace of
// an unprivileged caller; mappings only root may write): no skipped twin.
#define URUN_IT_INSTANTIATE_ONLY(suite, mode)                                      \
  INSTANTIATE_TEST_SUITE_P(Modes, suite, ::testing::Values(::urun_it::Mode::mode), \
                           ::urun_it::param_name)

#define URUN_IT_INSTANTIATE(suite)                                                              \
  INSTANTIATE_TEST_SUITE_P(Modes, suite,                                                        \
                           ::testing::Values(::urun_it::Mode::root, ::urun_it::Mode::rootless), \
                           ::urun_it::param_name)
