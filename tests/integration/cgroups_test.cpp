// Resource limits through cgroups, seen from inside the container and from the host, and the
// commands that act through the cgroup: update, pause/resume, ps, kill --all, delete --force.
//
// As root the container gets its own cgroup in every hierarchy. Inside, /proc/self/cgroup names
// it; urun shows the host's hierarchies under /sys/fs/cgroup/<controller> (the file is at
// <controller><path>/<file>), runc binds the container's own cgroup there (the file is at
// <controller>/<file>): the shell function `cg CONTROLLER FILE` below reads either.
// Rootless on this host there is no writable cgroup: limits are warned about once and the
// commands that need a cgroup (pause) fail cleanly.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class CgroupsRoot : public IntegrationTest {
 protected:
  // Saves `b` running a shell with one `sleep 1000` child, starts it as `id` and sets `init`
  // and `child` to their pids (call through ASSERT_NO_FATAL_FAILURE).
  void start_with_child(Bundle& b, const std::string& id, pid_t& init, pid_t& child);
};
class CgroupsRootless : public IntegrationTest {};

constexpr const char* kCgFunction =
    "cg() { p=$(grep -E \"^[0-9]+:([^:]*,)?$1(,[^:]*)?:\" /proc/self/cgroup | cut -d: -f3); "
    "f=/sys/fs/cgroup/$1$p/$2; [ -e \"$f\" ] || f=/sys/fs/cgroup/$1/$2; cat \"$f\"; }; ";

// "key=value" lines of a container's output.
std::map<std::string, std::string> key_values(const std::string& out) {
  std::map<std::string, std::string> kv;
  for (const auto& line : split_lines(out)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = trim(line.substr(eq + 1));
  }
  return kv;
}

// Controller (or "name=systemd", or "" for the unified hierarchy) -> cgroup path of a process.
std::map<std::string, std::string> proc_cgroups(pid_t pid) {
  std::map<std::string, std::string> out;
  for (const auto& line : split_lines(read_file("/proc/" + std::to_string(pid) + "/cgroup"))) {
    size_t a = line.find(':');
    size_t b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (ctrls.empty()) {
      out[""] = path;
      continue;
    }
    std::stringstream ss(ctrls);
    std::string c;
    while (std::getline(ss, c, ',')) out[c] = path;
  }
  return out;
}

// The host directory of a process's cgroup in the hierarchy of `ctrl`.
std::string host_cgroup_dir(pid_t pid, const std::string& ctrl) {
  auto cgs = proc_cgroups(pid);
  auto it = cgs.find(ctrl);
  if (it == cgs.end()) return "";
  std::string mount = ctrl.empty()                  ? "unified"
                      : ctrl.rfind("name=", 0) == 0 ? ctrl.substr(5)
                                                    : ctrl;
  return "/sys/fs/cgroup/" + mount + it->second;
}

std::string host_cgroup_file(pid_t pid, const std::string& ctrl, const std::string& file) {
  std::string d = host_cgroup_dir(pid, ctrl);
  return d.empty() ? "" : trim(read_file(d + "/" + file));
}

// Host pids whose parent is `parent`.
std::set<pid_t> children_of(pid_t parent) {
  std::set<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string stat = read_file("/proc/" + name + "/stat");
    size_t p = stat.rfind(')');
    if (p == std::string::npos) continue;
    std::istringstream rest(stat.substr(p + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.insert(std::stoi(name));
  }
  return out;
}

// Polls until `parent` has `n` live children; returns them.
std::set<pid_t> wait_children(pid_t parent, size_t n, std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto c = children_of(parent);
    if (c.size() >= n || std::chrono::steady_clock::now() > deadline) return c;
    std::this_thread::sleep_for(10ms);
  }
}

bool wait_dead(pid_t pid, std::chrono::milliseconds timeout = 3000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

size_t file_size(const std::string& path) {
  std::error_code ec;
  auto s = fs::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(s);
}

// Creates and starts a container; returns its init's host pid (0 after a failed assertion).
pid_t start_container(Runtime& rt, const Bundle& b, const std::string& id,
                      Result* created = nullptr) {
  std::vector<std::string> args = {"create", "--bundle", b.dir, id};
  Result c = rt.run(args);
  EXPECT_EQ(c.exit_code, 0) << c.describe();
  if (created) *created = c;
  if (c.exit_code != 0) return 0;
  Result s = rt.run({"start", id});
  EXPECT_EQ(s.exit_code, 0) << s.describe();
  if (s.exit_code != 0) return 0;
  Json st = rt.state(id);
  if (!st.contains("pid") || !st["pid"].is_number_integer()) {
    ADD_FAILURE() << "no pid in state: " << st.dump();
    return 0;
  }
  return st["pid"].get<pid_t>();
}

void CgroupsRoot::start_with_child(Bundle& b, const std::string& id, pid_t& init, pid_t& child) {
  b.sh("sleep 1000 & wait");
  b.save();
  init = start_container(rt(), b, id);
  ASSERT_GT(init, 0);
  auto kids = wait_children(init, 1);
  ASSERT_EQ(kids.size(), 1u);
  child = *kids.begin();
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  std::string s;
  while (in >> s) w.push_back(s);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Limits from the config

TEST_P(CgroupsRoot, MemoryLimitOomKillsTheAllocator) {
  if (!path_exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
    GTEST_SKIP() << "no v1 memory controller";
  const int64_t limit = 32 * 1024 * 1024;
  bool has_swap = path_exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["memory"] = {{"limit", limit}};
  if (has_swap) b.config["linux"]["resources"]["memory"]["swap"] = limit;
  // busybox tail keeps the whole unterminated last line in memory. The OOM killer picks the
  // process with the highest badness in the cgroup. The allocation runs in a subshell whose
  // processes all have the maximum oom_score_adj, so that every victim is one of them and never
  // the container's shell (pid 1 here: its death ends the container with nothing printed). A
  // second OOM while the killed allocator's memory is still being released would otherwise
  // pick the shell; lowering the shell's own score needs CAP_SYS_RESOURCE, which root lacks on
  // these hosts. The shell then reports how the allocation ended and what the cgroup counted.
  b.sh(std::string(kCgFunction) +
       "echo limit=$(cg memory memory.limit_in_bytes); "
       "echo small=$(head -c 1m /dev/zero | tail | wc -c); "
       "(echo 1000 >/proc/self/oom_score_adj && head -c 100m /dev/zero | tail >/dev/null); "
       "echo rc=$?; "
       "echo failcnt=$(cg memory memory.failcnt); "
       "echo memswfailcnt=$(cg memory memory.memsw.failcnt 2>/dev/null); "
       "echo oomkill=$(cg memory memory.oom_control | grep '^oom_kill ' | cut -d' ' -f2)");
  b.save();
  Result r = run_container(b, "oom", RunOptions{.timeout = 20s});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto kv = key_values(r.out);
  EXPECT_EQ(kv["limit"], std::to_string(limit)) << r.describe();
  EXPECT_EQ(kv["small"], "1048576") << "an allocation below the limit must succeed\n"
                                    << r.describe();
  EXPECT_EQ(kv["rc"], "137") << "the allocator must die of SIGKILL\n" << r.describe();
  bool counted = (!kv["oomkill"].empty() && kv["oomkill"] != "0") ||
                 (!kv["failcnt"].empty() && kv["failcnt"] != "0") ||
                 (!kv["memswfailcnt"].empty() && kv["memswfailcnt"] != "0");
  EXPECT_TRUE(counted) << "memory.oom_control or a failcnt should record the kill\n"
                       << r.describe();
}

TEST_P(CgroupsRoot, PidsLimitStopsAForkLoop) {
  if (!path_exists("/sys/fs/cgroup/pids")) GTEST_SKIP() << "no pids controller";
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["pids"] = {{"limit", 20}};
  // The loop runs in a child shell (ash gives up on the first failed fork); its sleeps stay
  // while the init reads the counters with builtins only: there is no pid left to fork.
  b.sh(
      "while read l; do case $l in *:pids:*) p=${l#*:pids:};; esac; done </proc/self/cgroup; "
      "d=/sys/fs/cgroup/pids$p; [ -e $d/pids.max ] || d=/sys/fs/cgroup/pids; "
      "sh -c 'for i in $(seq 50); do sleep 5 >/dev/null 2>&1 & done' 2>&1 | head -n 3; "
      "read max <$d/pids.max; echo max=$max; read cur <$d/pids.current; echo current=$cur; "
      "peak=; [ -e $d/pids.peak ] && read peak <$d/pids.peak; echo peak=$peak; "
      "n=0; for f in /proc/[0-9]*/comm; do read c <$f && [ \"$c\" = sleep ] && n=$((n+1)); "
      "done; echo sleeps=$n");
  b.save();
  Result r = run_container(b, "forks", RunOptions{.timeout = 20s});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(r.out.find("can't fork") != std::string::npos ||
              r.out.find("Resource temporarily unavailable") != std::string::npos)
      << "the fork loop should report fork failures\n"
      << r.describe();
  auto kv = key_values(r.out);
  EXPECT_EQ(kv["max"], "20") << r.describe();
  ASSERT_FALSE(kv["current"].empty()) << r.describe();
  EXPECT_LE(std::stoi(kv["current"]), 20) << r.describe();
  EXPECT_GT(std::stoi(kv["current"]), 1) << r.describe();
  if (!kv["peak"].empty()) {
    EXPECT_LE(std::stoi(kv["peak"]), 20) << r.describe();
  }
  ASSERT_FALSE(kv["sleeps"].empty()) << r.describe();
  EXPECT_GT(std::stoi(kv["sleeps"]), 5) << r.describe();
  EXPECT_LT(std::stoi(kv["sleeps"]), 20) << r.describe();
}

TEST_P(CgroupsRoot, CpuAndCpusetValuesAreVisibleInside) {
  if (!path_exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"))
    GTEST_SKIP() << "kernel without CFS bandwidth control";
  if (!path_exists("/sys/fs/cgroup/cpuset/cpuset.cpus")) GTEST_SKIP() << "no cpuset controller";
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["cpu"] = {
      {"quota", 50000}, {"period", 100000}, {"shares", 512}, {"cpus", "0"}, {"mems", "0"}};
  b.sh(std::string(kCgFunction) +
       "echo quota=$(cg cpu cpu.cfs_quota_us); echo period=$(cg cpu cpu.cfs_period_us); "
       "echo shares=$(cg cpu cpu.shares); echo cpus=$(cg cpuset cpuset.cpus); "
       "echo mems=$(cg cpuset cpuset.mems); "
       "echo allowed=$(grep Cpus_allowed_list /proc/self/status | cut -f2)");
  b.save();
  Result r = run_container(b, "cpu");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto kv = key_values(r.out);
  EXPECT_EQ(kv["quota"], "50000") << r.describe();
  EXPECT_EQ(kv["period"], "100000") << r.describe();
  EXPECT_EQ(kv["shares"], "512") << r.describe();
  EXPECT_EQ(kv["cpus"], "0") << r.describe();
  EXPECT_EQ(kv["mems"], "0") << r.describe();
  EXPECT_EQ(kv["allowed"], "0") << "the cpuset must bind the process\n" << r.describe();
}

// ---------------------------------------------------------------------------------------------
// update

TEST_P(CgroupsRoot, UpdateFlagsChangeARunningContainer) {
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["pids"] = {{"limit", 30}};
  b.set_args({"sleep", "1000"});
  b.save();
  pid_t pid = start_container(rt(), b, "upd");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(host_cgroup_file(pid, "pids", "pids.max"), "30");

  ASSERT_RUN_OK(rt().run({"update", "--pids-limit", "50", "upd"}));
  EXPECT_EQ(host_cgroup_file(pid, "pids", "pids.max"), "50");

  ASSERT_RUN_OK(rt().run({"update", "--memory", "64m", "upd"}));
  EXPECT_EQ(host_cgroup_file(pid, "memory", "memory.limit_in_bytes"), "67108864");
  ASSERT_RUN_OK(rt().run({"update", "--memory-reservation=33554432", "upd"}));
  EXPECT_EQ(host_cgroup_file(pid, "memory", "memory.soft_limit_in_bytes"), "33554432");
  if (path_exists(host_cgroup_dir(pid, "memory") + "/memory.memsw.limit_in_bytes")) {
    ASSERT_RUN_OK(rt().run({"update", "--memory", "48m", "--memory-swap", "96m", "upd"}));
    EXPECT_EQ(host_cgroup_file(pid, "memory", "memory.limit_in_bytes"), "50331648");
    EXPECT_EQ(host_cgroup_file(pid, "memory", "memory.memsw.limit_in_bytes"), "100663296");
  }

  ASSERT_RUN_OK(rt().run(
      {"update", "--cpu-share", "256", "--cpu-period", "200000", "--cpu-quota", "50000", "upd"}));
  EXPECT_EQ(host_cgroup_file(pid, "cpu", "cpu.shares"), "256");
  EXPECT_EQ(host_cgroup_file(pid, "cpu", "cpu.cfs_period_us"), "200000");
  EXPECT_EQ(host_cgroup_file(pid, "cpu", "cpu.cfs_quota_us"), "50000");

  ASSERT_RUN_OK(rt().run({"update", "--cpuset-cpus", "0", "--cpuset-mems", "0", "upd"}));
  EXPECT_EQ(host_cgroup_file(pid, "cpuset", "cpuset.cpus"), "0");
  EXPECT_EQ(host_cgroup_file(pid, "cpuset", "cpuset.mems"), "0");
  EXPECT_EQ(
      status_field(read_file("/proc/" + std::to_string(pid) + "/status"), "Cpus_allowed_list"),
      "0");

  std::string blkio = host_cgroup_dir(pid, "blkio");
  std::string weight_file = path_exists(blkio + "/blkio.weight")       ? "blkio.weight"
                            : path_exists(blkio + "/blkio.bfq.weight") ? "blkio.bfq.weight"
                                                                       : "";
  if (!weight_file.empty()) {
    ASSERT_RUN_OK(rt().run({"update", "--blkio-weight", "300", "upd"}));
    EXPECT_NE(host_cgroup_file(pid, "blkio", weight_file).find("300"), std::string::npos)
        << weight_file << ": " << host_cgroup_file(pid, "blkio", weight_file);
  }
  // The limits the later calls did not name are kept.
  EXPECT_EQ(host_cgroup_file(pid, "pids", "pids.max"), "50");
  EXPECT_EQ(rt().status("upd"), "running");
}

TEST_P(CgroupsRoot, UpdateFromResourcesFileAndStdin) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  pid_t pid = start_container(rt(), b, "res");
  ASSERT_GT(pid, 0);

  std::string file = dir() + "/res.json";
  write_file(file, R"({"pids":{"limit":77}})");
  ASSERT_RUN_OK(rt().run({"update", "-r", file, "res"}));
  EXPECT_EQ(host_cgroup_file(pid, "pids", "pids.max"), "77");

  ASSERT_RUN_OK(
      rt().run({"update", "-r", "-", "res"}, RunOptions{.stdin_data = R"({"pids":{"limit":78}})"}));
  EXPECT_EQ(host_cgroup_file(pid, "pids", "pids.max"), "78");

  write_file(file, R"({"pids":{"limit":79},"memory":{"limit":41943040},)"
                   R"("cpu":{"shares":300,"quota":30000,"period":100000}})");
  ASSERT_RUN_OK(rt().run({"update", "--resources=" + file, "res"}));
  EXPECT_EQ(host_cgroup_file(pid, "pids", "pids.max"), "79");
  EXPECT_EQ(host_cgroup_file(pid, "memory", "memory.limit_in_bytes"), "41943040");
  EXPECT_EQ(host_cgroup_file(pid, "cpu", "cpu.shares"), "300");
  EXPECT_EQ(host_cgroup_file(pid, "cpu", "cpu.cfs_quota_us"), "30000");
  EXPECT_EQ(host_cgroup_file(pid, "cpu", "cpu.cfs_period_us"), "100000");

  // A broken file changes nothing and the container keeps running.
  write_file(file, R"({"pids":{"limit":)");
  Result bad = rt().run({"update", "-r", file, "res"});
  EXPECT_NE(bad.exit_code, 0) << bad.describe();
  EXPECT_EQ(bad.err_lines().size(), 1u) << bad.describe();
  EXPECT_EQ(host_cgroup_file(pid, "pids", "pids.max"), "79");
  EXPECT_EQ(rt().status("res"), "running");

  Result missing = rt().run({"update", "--pids-limit", "5", "no-such-container"});
  EXPECT_NE(missing.exit_code, 0) << missing.describe();
  EXPECT_EQ(missing.err_lines().size(), 1u) << missing.describe();
  if (!is_runc()) {
    EXPECT_NE(missing.err.find("no-such-container"), std::string::npos) << missing.describe();
  }
}

// New device rules replace the old ones (on v2 the whole BPF program is swapped): the devices
// every container gets stay allowed after an update that denies everything.
TEST_P(CgroupsRoot, UpdateDeviceRulesKeepTheDefaultDevices) {
  if (!fs::exists("/sys/fs/cgroup/devices/devices.list"))
    GTEST_SKIP() << "no cgroup v1 devices hierarchy on this host";
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  pid_t pid = start_container(rt(), b, "devupd");
  ASSERT_GT(pid, 0);

  std::string file = dir() + "/devices.json";
  write_file(file, R"({"devices":[{"allow":false,"access":"rwm"}]})");
  ASSERT_RUN_OK(rt().run({"update", "-r", file, "devupd"}));
  const std::string list = host_cgroup_file(pid, "devices", "devices.list");
  EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << list;
  EXPECT_NE(list.find("c 1:3 rwm"), std::string::npos) << list;
  EXPECT_NE(list.find("c 136:* rwm"), std::string::npos) << list;
  Result r =
      rt().run({"exec", "devupd", "sh", "-c", "echo x > /dev/null && head -c 1 /dev/zero | wc -c"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "1") << r.describe();
}

// ---------------------------------------------------------------------------------------------
// pause / resume

TEST_P(CgroupsRoot, PauseFreezesEveryProcessAndResumeThaws) {
  Bundle b = make_bundle();
  // The init and a forked child each print a line every 20 ms.
  b.sh("(while :; do echo b; sleep 0.02; done) & while :; do echo a; sleep 0.02; done");
  b.save();
  Result c;
  pid_t pid = start_container(rt(), b, "frz", &c);
  ASSERT_GT(pid, 0);
  std::string out = c.out_path;
  ASSERT_NE(wait_file_contains(out, "b\n").find("b\n"), std::string::npos);
  ASSERT_NE(wait_file_contains(out, "a\n").find("a\n"), std::string::npos);

  ASSERT_RUN_OK(rt().run({"pause", "frz"}));
  EXPECT_EQ(rt().status("frz"), "paused");
  EXPECT_EQ(host_cgroup_file(pid, "freezer", "freezer.state"), "FROZEN");
  std::this_thread::sleep_for(50ms);
  size_t frozen_size = file_size(out);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(file_size(out), frozen_size) << "output grew while paused";
  EXPECT_EQ(rt().status("frz"), "paused");

  // A second pause fails and leaves it paused.
  Result again = rt().run({"pause", "frz"});
  EXPECT_NE(again.exit_code, 0) << again.describe();
  EXPECT_EQ(rt().status("frz"), "paused");

  ASSERT_RUN_OK(rt().run({"resume", "frz"}));
  EXPECT_EQ(rt().status("frz"), "running");
  EXPECT_EQ(host_cgroup_file(pid, "freezer", "freezer.state"), "THAWED");
  auto deadline = std::chrono::steady_clock::now() + 3s;
  std::string after;
  while (std::chrono::steady_clock::now() < deadline) {
    after = read_file(out).substr(std::min(frozen_size, read_file(out).size()));
    if (after.find("a\n") != std::string::npos && after.find("b\n") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(after.find("a\n"), std::string::npos) << "the init did not resume";
  EXPECT_NE(after.find("b\n"), std::string::npos) << "the forked child did not resume";

  Result resume_running = rt().run({"resume", "frz"});
  EXPECT_NE(resume_running.exit_code, 0) << resume_running.describe();
  EXPECT_EQ(rt().status("frz"), "running");
}

// A paused container is still deleted by --force (it must be thawed for SIGKILL to land).
TEST_P(CgroupsRoot, DeleteForceOfAPausedContainer) {
  Bundle b = make_bundle();
  pid_t pid = 0, child = 0;
  ASSERT_NO_FATAL_FAILURE(start_with_child(b, "pzd", pid, child));
  ASSERT_RUN_OK(rt().run({"pause", "pzd"}));
  ASSERT_EQ(rt().status("pzd"), "paused");
  std::string freezer = host_cgroup_dir(pid, "freezer");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "pzd"}));
  EXPECT_TRUE(wait_dead(pid));
  EXPECT_TRUE(wait_dead(child));
  EXPECT_FALSE(path_exists(freezer)) << freezer;
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// ---------------------------------------------------------------------------------------------
// ps

TEST_P(CgroupsRoot, PsListsTheContainersProcesses) {
  Bundle b = make_bundle();
  pid_t pid = 0, child = 0;
  ASSERT_NO_FATAL_FAILURE(start_with_child(b, "ps", pid, child));
  std::set<pid_t> want = {pid, child};

  Result j = rt().run({"ps", "--format", "json", "ps"});
  ASSERT_EQ(j.exit_code, 0) << j.describe();
  Json arr;
  try {
    arr = Json::parse(j.out);
  } catch (const std::exception& e) {
    FAIL() << "not JSON: " << e.what() << "\n" << j.describe();
  }
  ASSERT_TRUE(arr.is_array()) << j.out;
  std::set<pid_t> got;
  for (const auto& v : arr) {
    ASSERT_TRUE(v.is_number_integer()) << j.out;
    got.insert(v.get<pid_t>());
  }
  EXPECT_EQ(got, want) << j.out;
  EXPECT_EQ(arr.size(), 2u) << j.out;

  Result eq = rt().run({"ps", "--format=json", "ps"});
  ASSERT_EQ(eq.exit_code, 0) << eq.describe();
  EXPECT_EQ(Json::parse(eq.out).size(), 2u) << eq.out;

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"ps", "ps"}, {"ps", "--format", "table", "ps"}}) {
    Result t = rt().run(args);
    ASSERT_EQ(t.exit_code, 0) << t.describe();
    auto lines = split_lines(t.out);
    ASSERT_GE(lines.size(), 3u) << t.describe();
    auto header = words(lines[0]);
    auto col = std::find(header.begin(), header.end(), "PID");
    ASSERT_NE(col, header.end()) << "no PID column: " << lines[0];
    size_t idx = static_cast<size_t>(col - header.begin());
    std::set<pid_t> rows;
    for (size_t i = 1; i < lines.size(); ++i) {
      auto w = words(lines[i]);
      if (w.empty()) continue;
      ASSERT_GT(w.size(), idx) << lines[i];
      rows.insert(std::stoi(w[idx]));
    }
    EXPECT_EQ(rows, want) << t.out;
  }

  Result missing = rt().run({"ps", "no-such-container"});
  EXPECT_NE(missing.exit_code, 0) << missing.describe();
}

// ---------------------------------------------------------------------------------------------
// kill --all, delete --force

// Without a pid namespace the forked child outlives the init: only the cgroup finds it.
TEST_P(CgroupsRoot, KillAllReachesAForkedChild) {
  Bundle b = make_bundle();
  auto& nss = b.config["linux"]["namespaces"];
  for (auto it = nss.begin(); it != nss.end(); ++it) {
    if ((*it).value("type", "") == "pid") {
      nss.erase(it);
      break;
    }
  }
  pid_t pid = 0, child = 0;
  ASSERT_NO_FATAL_FAILURE(start_with_child(b, "all", pid, child));
  ASSERT_RUN_OK(rt().run({"kill", "--all", "all", "KILL"}));
  EXPECT_EQ(rt().wait_status("all", "stopped"), "stopped");
  EXPECT_TRUE(wait_dead(pid)) << "init survived kill --all";
  EXPECT_TRUE(wait_dead(child)) << "the forked child survived kill --all";
  ASSERT_RUN_OK(rt().run({"delete", "all"}));
  EXPECT_TRUE(wait_no_leftovers().empty());
}

TEST_P(CgroupsRoot, DeleteForceRemovesTheCgroupFromEveryHierarchy) {
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["pids"] = {{"limit", 40}};
  b.sh("sleep 1000 & wait");
  b.save();
  pid_t pid = start_container(rt(), b, "gone");
  ASSERT_GT(pid, 0);
  auto mine = proc_cgroups(::getpid());
  auto theirs = proc_cgroups(pid);
  ASSERT_FALSE(theirs.empty());
  std::vector<std::string> dirs;
  for (const auto& [ctrl, path] : theirs) {
    SCOPED_TRACE("controller '" + ctrl + "'");
    EXPECT_NE(path, mine[ctrl]) << "the container shares the test's cgroup";
    std::string d = host_cgroup_dir(pid, ctrl);
    std::string mount = d.substr(0, d.size() - path.size());
    if (!path_exists(mount)) continue;  // a hierarchy not mounted at /sys/fs/cgroup/<name>
    EXPECT_TRUE(path_exists(d)) << d;
    dirs.push_back(d);
  }
  EXPECT_FALSE(dirs.empty());
  ASSERT_RUN_OK(rt().run({"delete", "--force", "gone"}));
  EXPECT_FALSE(pid_alive(pid));
  for (const auto& d : dirs) EXPECT_FALSE(path_exists(d)) << "cgroup left behind: " << d;
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// ---------------------------------------------------------------------------------------------
// Rootless without cgroups

TEST_P(CgroupsRootless, LimitsAreWarnedAboutOnceInTheWholeLifecycle) {
  if (is_runc()) GTEST_SKIP() << "runc's rootless warning differs";
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["memory"] = {{"limit", 64 * 1024 * 1024}};
  b.config["linux"]["resources"]["pids"] = {{"limit", 50}};
  b.sh("echo ran; exec sleep 1000");
  b.save();
  Result c = create(b, "rl-limits");
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  std::vector<std::string> warnings = c.err_lines();
  for (const std::vector<std::string>& args : {std::vector<std::string>{"start", "rl-limits"},
                                               {"state", "rl-limits"},
                                               {"kill", "rl-limits", "KILL"}}) {
    Result r = rt().run(args);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    auto e = r.err_lines();
    warnings.insert(warnings.end(), e.begin(), e.end());
  }
  EXPECT_NE(wait_file_contains(c.out_path, "ran").find("ran"), std::string::npos);
  EXPECT_EQ(rt().wait_status("rl-limits", "stopped"), "stopped");
  Result d = rt().run({"delete", "rl-limits"});
  EXPECT_EQ(d.exit_code, 0) << d.describe();
  auto e = d.err_lines();
  warnings.insert(warnings.end(), e.begin(), e.end());
  ASSERT_EQ(warnings.size(), 1u) << "want one warning line across create/start/state/kill/delete";
  EXPECT_NE(warnings[0].find("cgroup"), std::string::npos) << warnings[0];
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
  std::string found =
      host_sh("find /sys/fs/cgroup -maxdepth 4 -type d -name 'rl-limits*' 2>/dev/null || true");
  EXPECT_EQ(found, "") << "cgroup directories named after the container";
}

TEST_P(CgroupsRootless, PauseWithoutCgroupsFailsAndTheContainerRuns) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  pid_t pid = start_container(rt(), b, "rl-pause");
  ASSERT_GT(pid, 0);
  Result p = rt().run({"pause", "rl-pause"});
  EXPECT_NE(p.exit_code, 0) << p.describe();
  EXPECT_NE(p.exit_code, -1) << p.describe();
  auto lines = p.err_lines();
  if (is_runc()) {
    std::erase_if(lines, [](const std::string& l) { return l.find("level=warning") != l.npos; });
  }
  ASSERT_EQ(lines.size(), 1u) << p.describe();
  if (!is_runc()) {
    EXPECT_TRUE(lines[0].find("freezer") != std::string::npos ||
                lines[0].find("cgroup") != std::string::npos)
        << "the error should say a freezer cgroup is needed: " << lines[0];
  }
  EXPECT_EQ(rt().status("rl-pause"), "running");
  EXPECT_TRUE(pid_alive(pid));
  std::string st = status_field(read_file("/proc/" + std::to_string(pid) + "/status"), "State");
  EXPECT_EQ(st.rfind("S", 0), 0u) << "the init should be sleeping normally, not frozen: " << st;
  ASSERT_RUN_OK(rt().run({"kill", "rl-pause", "KILL"}));
  EXPECT_EQ(rt().wait_status("rl-pause", "stopped"), "stopped");
  ASSERT_RUN_OK(rt().run({"delete", "rl-pause"}));
  EXPECT_TRUE(wait_no_leftovers().empty());
}

URUN_IT_INSTANTIATE_ONLY(CgroupsRoot, root);
URUN_IT_INSTANTIATE_ONLY(CgroupsRootless, rootless);

}  // namespace
}  // namespace urun_it
