// The cgroup v2 manager end to end on this hybrid host, as root: urun runs in a mount
// namespace where the host's cgroup2 tree (/sys/fs/cgroup/unified, no controllers) is bound
// over /sys/fs/cgroup, so it sees a unified host. Every urun call of a test goes through
// that namespace (the state record names /sys/fs/cgroup, which must mean the unified tree
// for pause, kill, ps and delete too); the test itself checks the tree at its real place.
//
// What runs for real: CLONE_INTO_CGROUP, cgroup.procs, cgroup.freeze and cgroup.events,
// cgroup.kill, sub-cgroups, the BPF device program, the core cgroup.* knobs, the cgroup2
// mount inside the container. Limits do not (no controller is enabled in that tree), so
// the configs carry none except where the error is the point.
//
// Root only, but for CgroupV2Delegated: rootless needs a part of the unified tree
// delegated to the test user, which that suite does for the checks of a create meeting a
// cgroup it did not make (a busy one, a frozen one, one that existed before).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class CgroupV2Root : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (!path_exists("/sys/fs/cgroup/unified/cgroup.procs"))
      GTEST_SKIP() << "no cgroup2 tree at /sys/fs/cgroup/unified";
    cgroup_ = "/urun-it-v2-" + std::to_string(::getpid());
  }
  void TearDown() override {
    // A failed run may leave the cgroup: `delete` in TearDown would look for it under the
    // host's /sys/fs/cgroup, not in the unified tree.
    if (!cgroup_.empty())
      host_sh("d=/sys/fs/cgroup/unified" + cgroup_ +
              "; [ ! -d $d ] || { echo 1 > $d/cgroup.kill; sleep 0.2; "
              "find $d -depth -type d -exec rmdir {} +; }; true");
    IntegrationTest::TearDown();
  }

  // `run` of the bundle with the unified tree bound over /sys/fs/cgroup.
  Result run_on_unified(Bundle& b, const std::string& id) {
    b.config["linux"]["cgroupsPath"] = cgroup_;
    b.save();
    return v2({"--debug", "run", "--bundle", b.dir, id});
  }

  // `urun --root STATE args...` with the unified tree bound over /sys/fs/cgroup. Rootless
  // (CgroupV2Delegated): root makes the mount namespace and moves the process into the
  // cgroup delegated to the user, then the runtime runs as the user (setpriv).
  Result v2(const std::vector<std::string>& args, RunOptions opts = {}) {
    std::string as_user;
    if (rootless()) {
      const Identity& u = identity();
      as_user = "setpriv --reuid=" + std::to_string(u.uid) + " --regid=" + std::to_string(u.gid) +
                " --init-groups env HOME=" + u.home + " USER=" + u.name + " LOGNAME=" + u.name +
                " XDG_RUNTIME_DIR=/run/user/" + std::to_string(u.uid) + " ";
      opts.join_cgroups = {"/sys/fs/cgroup/unified" + delegated_ + "/runtime/cgroup.procs"};
    }
    const std::string script =
        "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && r=$0 && exec " + as_user +
        "\"$r\" \"$@\"";
    std::vector<std::string> argv = {
        "unshare", "-m",   "--propagation",   "private", "sh",
        "-c",      script, world().runtime(), "--root",  rt().state_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    if (opts.cwd.empty()) opts.cwd = dir();
    return run_as(Identity{}, argv, dir() + "/io", opts);
  }
  // A cgroup the test makes below the container's place, the user's when rootless (as the
  // directories a user makes in its delegated subtree are).
  void make_cgroup(const std::string& host_path) {
    ASSERT_EQ(::mkdir(host_path.c_str(), 0755), 0) << host_path;
    if (!rootless()) return;
    for (const char* f : {"", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control"})
      ASSERT_EQ(::chown((host_path + f).c_str(), identity().uid, identity().gid), 0)
          << host_path + f;
  }

  // The four checks of a create meeting a cgroup it did not make (below), shared by the
  // root suite and the delegated rootless one.
  void second_container_is_refused();
  void frozen_cgroup_is_refused();
  void frozen_parent_is_refused();
  void preexisting_cgroup_survives_a_failed_create();
  std::string v2_status(const std::string& id) {
    Result r = v2({"state", id});
    if (r.exit_code != 0) return "";
    return Json::parse(r.out).value("status", "");
  }
  // The container's cgroup directory in the host's view.
  std::string host_dir() const { return "/sys/fs/cgroup/unified" + cgroup_; }
  std::vector<pid_t> procs(const std::string& sub = "") const {
    std::vector<pid_t> out;
    const std::string file = host_dir() + sub + "/cgroup.procs";
    if (!path_exists(file)) return out;
    for (const auto& l : split_lines(read_file(file))) out.push_back(std::stoi(l));
    std::sort(out.begin(), out.end());
    return out;
  }
  // Polls until the cgroup holds `n` processes; returns them.
  std::vector<pid_t> wait_procs(size_t n, const std::string& sub = "") const {
    for (int i = 0; i < 500; ++i) {
      auto p = procs(sub);
      if (p.size() == n) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return procs(sub);
  }
  // The value of `key` in the cgroup's cgroup.events ("populated", "frozen").
  std::string event(const std::string& key) const {
    for (const auto& l : split_lines(read_file(host_dir() + "/cgroup.events")))
      if (l.rfind(key + " ", 0) == 0) return l.substr(key.size() + 1);
    return "";
  }
  Bundle v2_bundle(const std::string& script) {
    Bundle b = make_bundle();
    b.config["linux"]["cgroupsPath"] = cgroup_;
    b.sh(script);
    b.save();
    return b;
  }

  std::string cgroup_;
  std::string delegated_;  // CgroupV2Delegated: the subtree the user owns
};

// Rootless on the emulated unified host: the test delegates /urun-it-v2-<pid> of the
// cgroup2 tree to the user (the directory, its cgroup.procs, cgroup.threads and
// cgroup.subtree_control, as systemd delegates a user's subtree), and the runtime runs in
// its `runtime` sub-cgroup, so that moving the init into the container's cgroup
// (<that>/ct) needs write access to the user's own cgroup.procs only.
class CgroupV2Delegated : public CgroupV2Root {
 protected:
  void SetUp() override {
    CgroupV2Root::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    delegated_ = cgroup_;
    cgroup_ = delegated_ + "/ct";
    make_cgroup("/sys/fs/cgroup/unified" + delegated_);
    // Root's: the runtime is moved in as root (RunOptions::join_cgroups).
    ASSERT_EQ(::mkdir(("/sys/fs/cgroup/unified" + delegated_ + "/runtime").c_str(), 0755), 0);
  }
  void TearDown() override {
    CgroupV2Root::TearDown();
    if (!delegated_.empty()) remove_cgroup_trees({"/sys/fs/cgroup/unified" + delegated_});
  }
};

std::string v2_line(const std::string& proc_cgroup) {
  for (const auto& l : split_lines(proc_cgroup))
    if (l.rfind("0::", 0) == 0) return l.substr(3);
  return "";
}

// /dev/kmsg (c 1:11) is bound into the container, outside the devices every container gets.
void add_kmsg(Bundle& b) {
  b.add_mount({{"destination", "/dev/kmsg"},
               {"type", "bind"},
               {"source", "/dev/kmsg"},
               {"options", Json::array({"bind"})}});
  b.sh(
      "if true 2>/dev/null >/dev/kmsg; then echo kmsg=open; else echo kmsg=denied; fi; "
      "if true 2>/dev/null >/dev/null; then echo null=open; else echo null=denied; fi; "
      "grep '^0::' /proc/self/cgroup");
}

TEST_P(CgroupV2Root, DeviceRulesAreABpfProgramAndTheInitIsClonedIntoItsCgroup) {
  if (is_runc()) GTEST_SKIP() << "checks urun's debug log";
  Bundle b = make_bundle();
  add_kmsg(b);
  b.config["linux"]["resources"] = {
      {"devices", Json::array({{{"allow", false}, {"access", "rwm"}}})}};
  Result r = run_on_unified(b, "v2deny");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_EQ(lines[0], "kmsg=denied");
  EXPECT_EQ(lines[1], "null=open");
  EXPECT_EQ(lines[2], "0::" + cgroup_);
  EXPECT_NE(r.err.find("cloned into its cgroup"), std::string::npos) << r.describe();
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/unified" + cgroup_)) << "cgroup left behind";

  // An allow rule for the device, write only (opening /dev/kmsg to read also needs
  // CAP_SYSLOG), after the deny-all.
  b.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 11}, {"access", "w"}});
  r = run_on_unified(b, "v2allow");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  lines = split_lines(r.out);
  ASSERT_FALSE(lines.empty()) << r.describe();
  EXPECT_EQ(lines[0], "kmsg=open");
  EXPECT_FALSE(path_exists("/sys/fs/cgroup/unified" + cgroup_)) << "cgroup left behind";
}

// create, start, ps, pause, resume, exec and kill --all on the v2 cgroup, checked in the
// kernel's files.
TEST_P(CgroupV2Root, LifecycleCommandsActOnTheCgroup) {
  // The init forks a child before it becomes `sleep`: kill --all must reach both.
  Bundle b = v2_bundle("sleep 1000 & exec sleep 1001");
  ASSERT_RUN_OK(v2({"create", "--bundle", b.dir, "v2c"}));
  const pid_t init = rt().state("v2c").value("pid", 0);
  ASSERT_GT(init, 0);
  EXPECT_EQ(v2_line(read_file("/proc/" + std::to_string(init) + "/cgroup")), cgroup_);
  EXPECT_EQ(procs(), std::vector<pid_t>{init});

  ASSERT_RUN_OK(v2({"start", "v2c"}));
  const std::vector<pid_t> both = wait_procs(2);
  ASSERT_EQ(both.size(), 2u);
  const pid_t child = both[0] == init ? both[1] : both[0];

  Result ps = v2({"ps", "--format", "json", "v2c"});
  ASSERT_EQ(ps.exit_code, 0) << ps.describe();
  EXPECT_EQ(Json::parse(ps.out).get<std::vector<pid_t>>(), both) << ps.describe();

  ASSERT_RUN_OK(v2({"pause", "v2c"}));
  EXPECT_EQ(v2_status("v2c"), "paused");
  EXPECT_EQ(trim(read_file(host_dir() + "/cgroup.freeze")), "1");
  EXPECT_EQ(event("frozen"), "1");  // the kernel: every task of the cgroup is stopped
  ASSERT_RUN_OK(v2({"resume", "v2c"}));
  EXPECT_EQ(v2_status("v2c"), "running");
  EXPECT_EQ(trim(read_file(host_dir() + "/cgroup.freeze")), "0");
  EXPECT_EQ(event("frozen"), "0");

  // exec joins the container's cgroup, or with --cgroup a sub-cgroup of it.
  Result e = v2({"exec", "v2c", "cat", "/proc/self/cgroup"});
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_EQ(v2_line(e.out), cgroup_) << e.describe();
  ASSERT_EQ(::mkdir((host_dir() + "/sub").c_str(), 0755), 0);
  e = v2({"exec", "--cgroup", "sub", "v2c", "cat", "/proc/self/cgroup"});
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_EQ(v2_line(e.out), cgroup_ + "/sub") << e.describe();

  ASSERT_RUN_OK(v2({"kill", "--all", "v2c", "KILL"}));
  EXPECT_TRUE(wait_procs(0).empty());
  for (int i = 0; i < 200 && path_exists("/proc/" + std::to_string(child)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(path_exists("/proc/" + std::to_string(child))) << "forked child survived";
  EXPECT_EQ(rt().wait_status("v2c", "stopped"), "stopped");
  ASSERT_RUN_OK(v2({"delete", "v2c"}));
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
}

// Paused, the container's processes make no progress: a counter the payload writes as
// fast as it can stands still until resume.
TEST_P(CgroupV2Root, PausedProcessesMakeNoProgress) {
  Bundle b = v2_bundle("while :; do i=$((i+1)); echo $i > /dev/shm/n; done");
  ASSERT_RUN_OK(v2({"create", "--bundle", b.dir, "v2p"}));
  const pid_t init = rt().state("v2p").value("pid", 0);
  ASSERT_GT(init, 0);
  ASSERT_RUN_OK(v2({"start", "v2p"}));
  const std::string counter = "/proc/" + std::to_string(init) + "/root/dev/shm/n";
  auto value = [&] {
    for (int i = 0; i < 100; ++i) {
      const std::string v = trim(read_file(counter));
      if (!v.empty()) return std::stol(v);  // empty: read between truncate and write
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1L;
  };
  for (int i = 0; i < 200 && !path_exists(counter); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(path_exists(counter));
  ASSERT_RUN_OK(v2({"pause", "v2p"}));
  EXPECT_EQ(event("frozen"), "1");
  const long frozen = value();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(value(), frozen) << "a paused process ran";
  ASSERT_RUN_OK(v2({"resume", "v2p"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_GT(value(), frozen) << "a resumed process did not run";
  ASSERT_RUN_OK(v2({"delete", "--force", "v2p"}));
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
}

// delete --force of a running container whose payload made a sub-cgroup (a writable
// cgroup mount) and moved a process into it: everything goes.
TEST_P(CgroupV2Root, DeleteForceRemovesTheCgroupAndWhatThePayloadMadeInIt) {
  if (is_runc()) GTEST_SKIP() << "runc mounts the whole cgroup2 tree without a cgroup namespace";
  Bundle b = v2_bundle(
      "mkdir /sys/fs/cgroup/inner || exit 1; sleep 1000 & "
      "echo $! > /sys/fs/cgroup/inner/cgroup.procs && echo moved; exec sleep 1001");
  for (auto& m : b.config["mounts"])
    if (m["type"] == "cgroup") m["options"] = Json::array({"nosuid", "noexec", "nodev", "rw"});
  b.save();
  Result c = v2({"create", "--bundle", b.dir, "v2d"});
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(v2({"start", "v2d"}));
  wait_file_contains(c.out_path, "moved");
  EXPECT_EQ(wait_procs(1, "/inner").size(), 1u);
  ASSERT_RUN_OK(v2({"delete", "--force", "v2d"}));
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
  EXPECT_TRUE(rt().list_ids().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// /sys/fs/cgroup with a cgroup namespace: cgroup2 whose root is the container's cgroup,
// so its cgroup.procs lists the container's processes only.
TEST_P(CgroupV2Root, CgroupMountInACgroupNamespaceIsTheContainersCgroup2) {
  Bundle b = v2_bundle(
      "grep ' /sys/fs/cgroup ' /proc/self/mountinfo; "
      "while read p; do echo procs=$p; done < /sys/fs/cgroup/cgroup.procs; "
      "grep '^0::' /proc/self/cgroup");
  if (!b.has_namespace("cgroup")) b.add_namespace("cgroup");
  b.save();
  Result r = v2({"run", "--bundle", b.dir, "v2ns"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_NE(lines[0].find(" / /sys/fs/cgroup ro,"), std::string::npos) << r.describe();
  EXPECT_NE(lines[0].find(" - cgroup2 "), std::string::npos) << r.describe();
  EXPECT_EQ(lines[1], "procs=1");
  EXPECT_EQ(lines[2], "0::/");  // the kernel's v1 hierarchies still list their own lines
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
}

// Without a cgroup namespace: a bind of the container's own directory, read-only unless
// the mount says rw.
TEST_P(CgroupV2Root, CgroupMountWithoutANamespaceBindsTheContainersDirectory) {
  if (is_runc()) GTEST_SKIP() << "runc mounts the whole cgroup2 tree without a cgroup namespace";
  const std::string script =
      "grep ' /sys/fs/cgroup ' /proc/self/mountinfo; "
      "if mkdir /sys/fs/cgroup/x 2>/dev/null; then echo mkdir=ok; else echo mkdir=denied; fi";
  Bundle b = v2_bundle(script);
  Result r = v2({"run", "--bundle", b.dir, "v2ro"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.describe();
  EXPECT_NE(lines[0].find(" " + cgroup_ + " /sys/fs/cgroup ro,"), std::string::npos)
      << r.describe();
  EXPECT_NE(lines[0].find(" - cgroup2 "), std::string::npos) << r.describe();
  EXPECT_EQ(lines[1], "mkdir=denied");

  for (auto& m : b.config["mounts"])
    if (m["type"] == "cgroup") m["options"] = Json::array({"nosuid", "noexec", "nodev", "rw"});
  b.save();
  r = v2({"run", "--bundle", b.dir, "v2rw"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.describe();
  EXPECT_NE(lines[0].find(" " + cgroup_ + " /sys/fs/cgroup rw,"), std::string::npos)
      << r.describe();
  EXPECT_EQ(lines[1], "mkdir=ok");
  // The sub-cgroup the container made went with it.
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
}

// update: the core cgroup.* knobs work without controllers (given as `unified`); a
// memory limit needs the memory controller, which this tree lacks: urun fails naming the
// file and the controller, as crun does, and the container runs on unchanged.
TEST_P(CgroupV2Root, UpdateWritesCoreKnobsAndNamesAMissingController) {
  if (is_runc()) GTEST_SKIP() << "urun's wording";
  Bundle b = v2_bundle("exec sleep 1000");
  ASSERT_RUN_OK(v2({"create", "--bundle", b.dir, "v2u"}));
  write_file(dir() + "/res.json", R"({"unified": {"cgroup.max.descendants": "3"}})");
  ASSERT_RUN_OK(v2({"update", "-r", dir() + "/res.json", "v2u"}));
  EXPECT_EQ(trim(read_file(host_dir() + "/cgroup.max.descendants")), "3");

  Result r = v2({"update", "--memory", "64M", "v2u"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
  EXPECT_NE(r.err.find("memory.max"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("controller `memory` is not available"), std::string::npos) << r.describe();
  EXPECT_EQ(v2_status("v2u"), "created");

  // The same limit at create fails the create cleanly.
  ASSERT_RUN_OK(v2({"delete", "--force", "v2u"}));
  b.config["linux"]["resources"]["memory"] = {{"limit", 64 * 1024 * 1024}};
  b.save();
  r = v2({"create", "--bundle", b.dir, "v2m"});
  expect_clean_failure(r, "memory.max");
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
}

// run.oci.delegate-cgroup (v2 only): the processes run in a sub-cgroup left to the
// payload; limits stay on the container's cgroup; delete removes both.
TEST_P(CgroupV2Root, DelegateCgroupHoldsTheProcesses) {
  if (is_runc()) GTEST_SKIP() << "a crun annotation";
  Bundle b = v2_bundle("exec sleep 1000");
  b.config["annotations"]["run.oci.delegate-cgroup"] = "payload";
  b.config["linux"]["resources"]["unified"] = {{"cgroup.max.depth", "2"}};
  b.save();
  ASSERT_RUN_OK(v2({"create", "--bundle", b.dir, "v2g"}));
  const pid_t init = rt().state("v2g").value("pid", 0);
  ASSERT_GT(init, 0);
  EXPECT_EQ(v2_line(read_file("/proc/" + std::to_string(init) + "/cgroup")), cgroup_ + "/payload");
  EXPECT_EQ(procs("/payload"), std::vector<pid_t>{init});
  EXPECT_TRUE(procs().empty());
  EXPECT_EQ(trim(read_file(host_dir() + "/cgroup.max.depth")), "2");
  EXPECT_EQ(trim(read_file(host_dir() + "/payload/cgroup.max.depth")), "max");
  ASSERT_RUN_OK(v2({"start", "v2g"}));
  Result ps = v2({"ps", "--format", "json", "v2g"});
  ASSERT_EQ(ps.exit_code, 0) << ps.describe();
  EXPECT_EQ(Json::parse(ps.out).get<std::vector<pid_t>>(), std::vector<pid_t>{init});
  ASSERT_RUN_OK(v2({"delete", "--force", "v2g"}));
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
}

// With a cgroup namespace, crun's manual: the namespace is made in the container's
// cgroup before the move to the delegated one, so the payload sees its delegated cgroup
// below its root and can manage it through a writable cgroup mount.
TEST_P(CgroupV2Root, DelegateCgroupWithACgroupNamespaceIsBelowTheNamespaceRoot) {
  if (is_runc()) GTEST_SKIP() << "a crun annotation";
  Bundle b = v2_bundle(
      "grep '^0::' /proc/self/cgroup; "
      "while read p; do echo procs=$p; done < /sys/fs/cgroup/payload/cgroup.procs; "
      "mkdir /sys/fs/cgroup/payload/mine && echo made; exec sleep 1000");
  b.config["annotations"]["run.oci.delegate-cgroup"] = "payload";
  if (!b.has_namespace("cgroup")) b.add_namespace("cgroup");
  for (auto& m : b.config["mounts"])
    if (m["type"] == "cgroup") m["options"] = Json::array({"nosuid", "noexec", "nodev", "rw"});
  b.save();
  Result c = v2({"create", "--bundle", b.dir, "v2gn"});
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  const pid_t init = rt().state("v2gn").value("pid", 0);
  ASSERT_GT(init, 0);
  EXPECT_EQ(v2_line(read_file("/proc/" + std::to_string(init) + "/cgroup")), cgroup_ + "/payload");
  EXPECT_TRUE(procs().empty());
  ASSERT_RUN_OK(v2({"start", "v2gn"}));
  const std::string out = wait_file_contains(c.out_path, "made");
  EXPECT_EQ(split_lines(out), (std::vector<std::string>{"0::/payload", "procs=1", "made"}));
  EXPECT_TRUE(path_exists(host_dir() + "/payload/mine"));
  ASSERT_RUN_OK(v2({"delete", "--force", "v2gn"}));
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
}

// A runtime killed in the middle of create (a createContainer hook blocks): delete
// --force finds the v2 cgroup from the record and leaves neither processes nor directory.
TEST_P(CgroupV2Root, DeleteForceAfterAKilledCreate) {
  if (is_runc()) GTEST_SKIP() << "runc keeps no record of a create killed this early";
  Bundle b = v2_bundle("sleep 1000");
  const std::string started = make_host_dir("hook") + "/started";
  b.config["hooks"]["createContainer"] =
      Json::array({{{"path", "/bin/sh"},
                    {"args", {"sh", "-c", "echo $$ > " + started + "; exec sleep 1000"}},
                    {"env", {token(), "PATH=/usr/bin:/bin"}}}});
  b.save();
  // unshare and sh exec, so the spawned pid is the runtime's.
  const std::string script =
      "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && r=$0 && exec \"$r\" \"$@\"";
  Proc p =
      spawn_as(identity(),
               {"unshare", "-m", "--propagation", "private", "sh", "-c", script, world().runtime(),
                "--root", rt().state_root(), "create", "--bundle", b.dir, "v2k"},
               dir() + "/io", RunOptions{.cwd = dir()});
  wait_file_contains(started, "\n", std::chrono::seconds(20));
  ASSERT_EQ(::kill(p.pid(), SIGKILL), 0);
  Result killed = p.wait(std::chrono::seconds(10));
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.describe();
  EXPECT_FALSE(procs().empty()) << "the init and the hook should still be in the cgroup";
  ASSERT_RUN_OK(v2({"delete", "--force", "v2k"}));
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
  EXPECT_TRUE(rt().list_ids().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// A second container given the first one's cgroup is refused with one line and leaves
// nothing; the first keeps its processes and its cgroup (create and run alike).
void CgroupV2Root::second_container_is_refused() {
  Bundle b = v2_bundle("sleep 1000 & exec sleep 1001");
  ASSERT_RUN_OK(v2({"create", "--bundle", b.dir, "v2first"}));
  ASSERT_RUN_OK(v2({"start", "v2first"}));
  const std::vector<pid_t> first = wait_procs(2);
  ASSERT_EQ(first.size(), 2u);
  for (const char* command : {"create", "run"}) {
    SCOPED_TRACE(command);
    Result r = v2({command, "--bundle", b.dir, "v2second"});
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.exit_code, -1) << r.describe();
    ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
    if (!is_runc()) {
      EXPECT_NE(r.err.find("v2second"), std::string::npos) << r.describe();
      EXPECT_NE(r.err.find(cgroup_ + "`"), std::string::npos) << r.describe();
      EXPECT_NE(r.err.find("already has processes"), std::string::npos) << r.describe();
    }
    EXPECT_EQ(state_entries(), std::vector<std::string>{"v2first"});
    EXPECT_EQ(procs(), first) << "the first container's cgroup changed";
    for (pid_t pid : first) EXPECT_TRUE(pid_alive(pid)) << "process " << pid << " died";
  }
  EXPECT_EQ(v2_status("v2first"), "running");
  ASSERT_RUN_OK(v2({"delete", "--force", "v2first"}));
  EXPECT_FALSE(path_exists(host_dir())) << "cgroup left behind";
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// A frozen cgroup made before (cgroup.freeze 1): run fails at once instead of waiting for
// an init that never runs, and leaves the cgroup frozen; the test thaws and removes it.
void CgroupV2Root::frozen_cgroup_is_refused() {
  make_cgroup(host_dir());
  write_file(host_dir() + "/cgroup.freeze", "1");
  ASSERT_EQ(event("frozen"), "1");
  Bundle b = v2_bundle("echo ran");
  Result r = v2({"run", "--bundle", b.dir, "v2frozen"}, RunOptions{.timeout = 8s});
  ASSERT_NE(r.exit_code, -1) << "run hung on a frozen cgroup\n" << r.describe();
  expect_clean_failure(r, "is frozen");
  EXPECT_TRUE(r.out.empty()) << r.describe();
  ASSERT_TRUE(path_exists(host_dir())) << "the frozen cgroup was removed";
  EXPECT_EQ(trim(read_file(host_dir() + "/cgroup.freeze")), "1") << "it was thawed";
  EXPECT_TRUE(procs().empty());
  write_file(host_dir() + "/cgroup.freeze", "0");
  EXPECT_EQ(::rmdir(host_dir().c_str()), 0) << std::strerror(errno);
}

// A new cgroup below a frozen one is frozen from its first moment: the same error, and
// the new cgroup goes again.
void CgroupV2Root::frozen_parent_is_refused() {
  make_cgroup(host_dir());
  write_file(host_dir() + "/cgroup.freeze", "1");
  Bundle b = v2_bundle("echo ran");
  b.config["linux"]["cgroupsPath"] = cgroup_ + "/ct";
  b.save();
  Result r = v2({"run", "--bundle", b.dir, "v2frozen"}, RunOptions{.timeout = 8s});
  ASSERT_NE(r.exit_code, -1) << "run hung on a frozen cgroup\n" << r.describe();
  expect_clean_failure(r, "is frozen");
  EXPECT_FALSE(path_exists(host_dir() + "/ct")) << "cgroup left behind";
  EXPECT_EQ(trim(read_file(host_dir() + "/cgroup.freeze")), "1") << "the parent was thawed";
  write_file(host_dir() + "/cgroup.freeze", "0");
  EXPECT_EQ(::rmdir(host_dir().c_str()), 0) << std::strerror(errno);
}

// A create that fails after its init joined the cgroup (a createRuntime hook fails) removes
// what it made and nothing else: a cgroup that existed survives (empty again), the
// delegated sub-cgroup the create made in it goes; below an existing parent, the
// directories the create made go and the parent stays.
void CgroupV2Root::preexisting_cgroup_survives_a_failed_create() {
  make_cgroup(host_dir());
  Bundle b = v2_bundle("echo ran");
  b.config["hooks"]["createRuntime"] =
      Json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}, {"env", {token()}}}});
  b.config["annotations"]["run.oci.delegate-cgroup"] = "payload";
  b.save();
  for (const char* command : {"create", "run"}) {
    SCOPED_TRACE(command);
    expect_clean_failure(v2({command, "--bundle", b.dir, "v2fail"}), "createRuntime");
    EXPECT_TRUE(path_exists(host_dir())) << "the cgroup that existed was removed";
    EXPECT_FALSE(path_exists(host_dir() + "/payload")) << "left behind";
    EXPECT_TRUE(procs().empty());
  }
  b.config["linux"]["cgroupsPath"] = cgroup_ + "/mid/ct";
  b.config["annotations"].erase("run.oci.delegate-cgroup");
  b.save();
  expect_clean_failure(v2({"run", "--bundle", b.dir, "v2fail"}), "createRuntime");
  EXPECT_FALSE(path_exists(host_dir() + "/mid")) << "left behind";
  EXPECT_TRUE(path_exists(host_dir())) << "the parent that existed was removed";
}

TEST_P(CgroupV2Root, SecondContainerOnTheSameCgroupIsRefusedAndTheFirstRunsOn) {
  second_container_is_refused();
}
TEST_P(CgroupV2Root, FrozenPreexistingCgroupIsAnErrorNotAHang) { frozen_cgroup_is_refused(); }
TEST_P(CgroupV2Root, FrozenParentCgroupIsAnErrorNotAHang) { frozen_parent_is_refused(); }
TEST_P(CgroupV2Root, PreexistingCgroupSurvivesAFailedCreate) {
  if (is_runc()) GTEST_SKIP() << "runc removes the container's cgroup whoever made it";
  preexisting_cgroup_survives_a_failed_create();
}

TEST_P(CgroupV2Delegated, SecondContainerOnTheSameCgroupIsRefusedAndTheFirstRunsOn) {
  second_container_is_refused();
}
TEST_P(CgroupV2Delegated, FrozenPreexistingCgroupIsAnErrorNotAHang) { frozen_cgroup_is_refused(); }
TEST_P(CgroupV2Delegated, FrozenParentCgroupIsAnErrorNotAHang) { frozen_parent_is_refused(); }
TEST_P(CgroupV2Delegated, PreexistingCgroupSurvivesAFailedCreate) {
  if (is_runc()) GTEST_SKIP() << "runc removes the container's cgroup whoever made it";
  preexisting_cgroup_survives_a_failed_create();
}

URUN_IT_INSTANTIATE_ONLY(CgroupV2Root, root);
URUN_IT_INSTANTIATE_ONLY(CgroupV2Delegated, rootless);

}  // namespace
}  // namespace urun_it
