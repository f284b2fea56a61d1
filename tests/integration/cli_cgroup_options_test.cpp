// Options that act through the container's cgroup: exec --ignore-paused, update --cpu-burst and
// --cpu-idle (runc 1.2), and the default device rules of runc and crun 1.20+.
//
// Each test works below its own directory BASE (/urun-it-cli-<pid>) in every hierarchy of this
// hybrid host, delegated to the test user when rootless (v1_base.hpp).
#include <unistd.h>

#include <thread>

#include "harness.hpp"
#include "v1_base.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class CliCgroups : public V1Base {
 protected:
  void SetUp() override {
    V1Base::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(set_up_base("cli"));
  }
  Proc urun_spawn(const std::vector<std::string>& args, RunOptions opts = {}) {
    if (rootless() && has(kUnified)) opts.join_cgroups = {dir(kUnified, "/runtime/cgroup.procs")};
    return rt().spawn(args, opts);
  }
  // A created and started container in BASE/ct.
  void start_sleeper(const std::string& id) {
    Bundle b = make_bundle({.name = id});
    b.config["linux"]["cgroupsPath"] = base_ + "/ct";
    b.set_args({"sleep", "1000"});
    b.save();
    ASSERT_RUN_OK(urun({"create", "--bundle", b.dir, id}));
    ASSERT_RUN_OK(urun({"start", id}));
  }
};

// runc's --ignore-paused: the exec'd process joins the frozen cgroup and starts at resume.
TEST_P(CliCgroups, ExecIgnorePausedStartsTheProcessAtResume) {
  if (!has("freezer")) GTEST_SKIP() << "no freezer hierarchy";
  ASSERT_NO_FATAL_FAILURE(start_sleeper("c1"));
  ASSERT_RUN_OK(urun({"pause", "c1"}));
  ASSERT_EQ(rt().status("c1"), "paused");
  Result refused = urun({"exec", "c1", "true"});
  EXPECT_NE(refused.exit_code, 0) << refused.describe();
  EXPECT_NE(refused.err.find("paused"), std::string::npos) << refused.describe();

  Proc e = urun_spawn({"exec", "--ignore-paused", "c1", "echo", "after-resume"});
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(e.running()) << "the process ran in a paused container";
  ASSERT_RUN_OK(urun({"resume", "c1"}));
  Result r = e.wait(20s);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "after-resume");
}

// runc's update --cpu-burst (cpu.cfs_burst_us on v1) and --cpu-idle (cpu.idle).
TEST_P(CliCgroups, UpdateCpuBurstAndIdle) {
  if (!has("cpu") && !has("cpu,cpuacct")) GTEST_SKIP() << "no cpu hierarchy";
  ASSERT_NO_FATAL_FAILURE(start_sleeper("c1"));
  const std::string cpu = std::string(kCgroupRoot) + "/cpu" + base_ + "/ct";
  if (!path_exists(cpu + "/cpu.cfs_burst_us")) {
    Result r = urun({"update", "--cpu-burst", "1000", "c1"});
    EXPECT_NE(r.exit_code, 0) << "the kernel has no CPU burst, yet update succeeded";
    EXPECT_NE(r.err.find("Linux 5.14"), std::string::npos) << r.describe();
  } else {
    ASSERT_RUN_OK(urun({"update", "--cpu-quota", "50000", "--cpu-burst", "20000", "c1"}));
    EXPECT_EQ(trim(read_file(cpu + "/cpu.cfs_burst_us")), "20000");
  }
  if (!path_exists(cpu + "/cpu.idle")) {
    Result r = urun({"update", "--cpu-idle", "1", "c1"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("Linux 5.15"), std::string::npos) << r.describe();
  } else {
    ASSERT_RUN_OK(urun({"update", "--cpu-idle", "1", "c1"}));
    EXPECT_EQ(trim(read_file(cpu + "/cpu.idle")), "1");
    ASSERT_RUN_OK(urun({"update", "--cpu-idle", "0", "c1"}));
    EXPECT_EQ(trim(read_file(cpu + "/cpu.idle")), "0");
  }
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"--cpu-burst", "-5"}, {"--cpu-burst", "x"}, {"--cpu-idle", "2"}, {"--cpu-idle", "y"}}) {
    bad.insert(bad.begin(), "update");
    bad.push_back("c1");
    Result r = urun(bad);
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.err_lines().size(), 1u) << r.describe();
  }
  EXPECT_EQ(rt().status("c1"), "running");
}

URUN_IT_INSTANTIATE(CliCgroups);

// The default device rules of runc and crun 1.20+ after the config's "deny all": mknod of any
// node (`c *:* m`, `b *:* m`), the standard nodes, the console, ptys and /dev/net/tun. Root
// only: the v1 devices controller takes rules from CAP_SYS_ADMIN on the host alone, so a
// rootless container's device access is what its user namespace allows (terminal_test.cpp
// covers ptys there).
class DefaultDevices : public CliCgroups {};

TEST_P(DefaultDevices, DenyAllKeepsTheDefaultsOnly) {
  if (!has("devices")) GTEST_SKIP() << "no devices hierarchy";
  Bundle b = make_bundle();
  b.config["linux"]["cgroupsPath"] = base_ + "/ct";
  ASSERT_EQ(b.config["linux"]["resources"]["devices"][0]["allow"], false);
  // Host nodes bound in: tun (allowed by default) and loop-control (10:237, not allowed).
  for (const char* node : {"/dev/net/tun", "/dev/loop-control"})
    if (!path_exists(node)) GTEST_SKIP() << node << " missing on this host";
  b.add_mount({{"destination", "/dev/net/tun"},
               {"type", "bind"},
               {"source", "/dev/net/tun"},
               {"options", {"bind"}}});
  b.add_mount({{"destination", "/dev/loop-control"},
               {"type", "bind"},
               {"source", "/dev/loop-control"},
               {"options", {"bind"}}});
  for (const char* set : {"bounding", "effective", "permitted"})
    b.config["process"]["capabilities"][set].push_back("CAP_MKNOD");
  b.sh(
      "(exec 3<>/dev/net/tun) && echo tun-open || echo tun-denied;"
      "(exec 3<>/dev/loop-control) 2>/dev/null && echo loop-open || echo loop-denied;"
      "mknod /dev/lc c 10 237 && echo mknod-ok || echo mknod-denied;"
      "(exec 3</dev/lc) 2>/dev/null && echo lc-open || echo lc-denied;"
      "mknod /dev/blk b 7 0 && echo bmknod-ok || echo bmknod-denied;"
      "(exec 3<>/dev/ptmx) && echo ptmx-open || echo ptmx-denied;"
      "sleep 1000");
  b.save();
  Result c = create(b, "dev");
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(rt().run({"start", "dev"}));
  const std::string list = read_file(dir("devices", "/ct/devices.list"));
  for (const char* rule :
       {"c *:* m", "b *:* m", "c 1:3 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"})
    EXPECT_NE(list.find(rule), std::string::npos) << rule << " missing from\n" << list;
  EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << list;
  // The effect inside: what the rules allow opens, the rest is refused.
  const std::string out = wait_file_contains(c.out_path, "ptmx-", 10s);
  for (const char* want :
       {"tun-open", "loop-denied", "mknod-ok", "lc-denied", "bmknod-ok", "ptmx-open"})
    EXPECT_NE(out.find(want), std::string::npos) << want << " not in\n" << out;
}

URUN_IT_INSTANTIATE_ONLY(DefaultDevices, root);

}  // namespace
}  // namespace urun_it
