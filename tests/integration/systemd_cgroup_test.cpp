// The systemd cgroup manager end to end: the real binary talks to a fake systemd on a
// private dbus-daemon (tests/fakes/systemd_fake.hpp; there is no systemd on the test
// hosts). The fake answers with the scope's cgroup path and leaves the directories to
// urun, which makes them in the host's real hierarchies: the limits apply for real, and
// `delete` stops the unit and removes them.
#include <dirent.h>
#include <dlfcn.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <memory>

#include "harness.hpp"
#include "systemd_fake.hpp"

namespace urun_it {
namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

// Directories under the cgroup root that hold a hierarchy (symlinks such as cpu ->
// cpu,cpuacct skipped).
std::vector<std::string> hierarchies() {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(kCgroupRoot)) {
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

std::string cgroup_line(const std::string& proc_cgroup, const std::string& key) {
  for (const auto& line : split_lines(proc_cgroup)) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (b != std::string::npos && line.substr(a + 1, b - a - 1) == key) return line.substr(b + 1);
  }
  return "";
}

class SystemdCgroup : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    for (const auto& h : hierarchies()) {
      const std::string slice = std::string(kCgroupRoot) + "/" + h + "/system.slice";
      if (!path_exists(slice)) slices_made_here_.push_back(slice);
    }
    bus_ = std::make_unique<urun_test::PrivateBus>(dir());
    opts_.extra_env = {"DBUS_SYSTEM_BUS_ADDRESS=" + bus_->address()};
  }
  void TearDown() override {
    IntegrationTest::TearDown();  // delete --force: the fake must still answer
    fake_.reset();
    bus_.reset();
    // The slice is systemd's on a real host; here it exists because of this test.
    for (const auto& s : slices_made_here_) ::rmdir(s.c_str());
  }
  std::vector<urun_test::UnitCall> calls_named(const std::string& method) {
    std::vector<urun_test::UnitCall> out;
    for (auto& c : fake_->calls())
      if (c.method == method) out.push_back(c);
    return out;
  }

  std::unique_ptr<urun_test::PrivateBus> bus_;
  std::unique_ptr<urun_test::FakeSystemd> fake_;
  std::vector<std::string> slices_made_here_;
  RunOptions opts_;
};

class SystemdCgroupRoot : public SystemdCgroup {};
class SystemdCgroupRootless : public SystemdCgroup {};

TEST_P(SystemdCgroupRoot, ScopeHoldsTheContainerAndGoesWithDelete) {
  if (is_runc()) GTEST_SKIP() << "runc asks systemd for its own properties and paths";
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  Bundle b = make_bundle();
  b.config["linux"]["resources"]["pids"] = {{"limit", 77}};
  b.config["linux"]["resources"]["memory"] = {{"limit", 64 * 1024 * 1024}};
  b.sh("sleep 1000");
  b.save();
  ASSERT_RUN_OK(rt().run({"--systemd-cgroup", "create", "--bundle", b.dir, "sdc"}, opts_));
  const pid_t pid = rt().state("sdc").value("pid", 0);
  ASSERT_GT(pid, 0);

  auto starts = calls_named("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u);
  const std::string unit = starts[0].unit;
  EXPECT_EQ(unit.rfind("urun-sdc", 0), 0u) << unit;
  EXPECT_EQ(unit.substr(unit.size() - 6), ".scope") << unit;
  auto& p = starts[0].properties;
  EXPECT_EQ(p["PIDs"], std::to_string(pid));
  EXPECT_EQ(p["Delegate"], "true");
  EXPECT_EQ(p["Slice"], "system.slice");
  EXPECT_EQ(p["TasksMax"], "77");
  EXPECT_EQ(p["MemoryMax"], std::to_string(64 * 1024 * 1024));

  // The init sits in the scope's cgroup in every hierarchy (v1: no subgroup), with the
  // limits written there.
  const std::string scope = "/system.slice/" + unit;
  const std::string proc = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  EXPECT_EQ(cgroup_line(proc, "pids"), scope) << proc;
  EXPECT_EQ(cgroup_line(proc, "memory"), scope) << proc;
  EXPECT_EQ(read_file(std::string(kCgroupRoot) + "/pids" + scope + "/pids.max"), "77\n");
  EXPECT_EQ(read_file(std::string(kCgroupRoot) + "/memory" + scope + "/memory.limit_in_bytes"),
            std::to_string(64 * 1024 * 1024) + "\n");

  // Later commands find the scope from the record alone (no bus address given).
  ASSERT_RUN_OK(rt().run({"start", "sdc"}));
  EXPECT_EQ(rt().status("sdc"), "running");
  Result ps = rt().run({"ps", "sdc"});
  ASSERT_EQ(ps.exit_code, 0) << ps.describe();
  EXPECT_NE(ps.out.find(std::to_string(pid)), std::string::npos) << ps.describe();
  ASSERT_RUN_OK(rt().run({"pause", "sdc"}));
  EXPECT_EQ(rt().status("sdc"), "paused");
  ASSERT_RUN_OK(rt().run({"resume", "sdc"}));
  EXPECT_EQ(rt().status("sdc"), "running");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "sdc"}));
  auto stops = calls_named("StopUnit");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].unit, unit);
  for (const auto& h : hierarchies())
    EXPECT_FALSE(path_exists(std::string(kCgroupRoot) + "/" + h + scope)) << h << " left behind";
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// The container's /sys/fs/cgroup shows its scope, not the runtime's cgroups: the scope's
// path comes from systemd (StartTransientUnit, after clone), so the init gets the mount
// plan once it has joined the scope.
TEST_P(SystemdCgroupRoot, CgroupMountShowsTheScope) {
  if (is_runc()) GTEST_SKIP() << "runc asks systemd for its own properties and paths";
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  Bundle b = make_bundle();
  bool has_mount = false;
  for (const auto& m : b.config["mounts"]) has_mount |= m["type"] == "cgroup";
  ASSERT_TRUE(has_mount) << "the default config has a cgroup mount";
  b.config["linux"]["resources"]["pids"] = {{"limit", 77}};
  // Without a cgroup namespace the pids hierarchy is a bind of the scope's directory:
  // its limit and its processes (the init is pid 1 of the container's pid namespace).
  // Shell built-ins only while reading cgroup.procs, so it lists the init alone.
  b.sh(
      "read m < /sys/fs/cgroup/pids/pids.max; echo $m; "
      "while read p; do echo $p; done < /sys/fs/cgroup/pids/cgroup.procs; "
      "grep ' /sys/fs/cgroup/pids ' /proc/self/mountinfo");
  b.save();
  Result r = rt().run({"--systemd-cgroup", "run", "--bundle", b.dir, "sdm"}, opts_);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto starts = calls_named("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u);
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_EQ(lines[0], "77");
  EXPECT_EQ(lines[1], "1");
  // mountinfo's root field is the bound directory: the scope's.
  EXPECT_NE(lines[2].find(" /system.slice/" + starts[0].unit + " /sys/fs/cgroup/pids ro,"),
            std::string::npos)
      << r.describe();
}

// A foreground run stops its scope when the container exits.
TEST_P(SystemdCgroupRoot, RunStopsTheScopeAtExit) {
  if (is_runc()) GTEST_SKIP() << "runc asks systemd for its own properties and paths";
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  Bundle b = make_bundle();
  b.sh("echo ran");
  b.save();
  Result r = rt().run({"--cgroup-manager=systemd", "run", "--bundle", b.dir, "sdr"}, opts_);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "ran\n");
  auto starts = calls_named("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u);
  auto stops = calls_named("StopUnit");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].unit, starts[0].unit);
  for (const auto& h : hierarchies())
    EXPECT_FALSE(
        path_exists(std::string(kCgroupRoot) + "/" + h + "/system.slice/" + starts[0].unit))
        << h;
}

// systemd refusing the scope: one line with systemd's reason, nothing left.
TEST_P(SystemdCgroupRoot, SystemdErrorFailsCleanly) {
  if (is_runc()) GTEST_SKIP() << "urun's wording";
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  fake_->fail_next_start("org.freedesktop.DBus.Error.AccessDenied", "Access denied by policy");
  Bundle b = make_bundle();
  b.sh("echo ran");
  b.save();
  Result r = rt().run({"--systemd-cgroup", "run", "--bundle", b.dir, "sde"}, opts_);
  expect_clean_failure(r, "Access denied by policy");
  EXPECT_TRUE(r.out.empty()) << r.describe();
}

// Two containers given the same systemd cgroupsPath name the same scope: systemd refuses
// the second (UnitExists), and its clean-up leaves the first's scope alone: no StopUnit,
// which on a real host would have systemd kill the first container.
TEST_P(SystemdCgroupRoot, SecondContainerOnTheSameScopeLeavesTheFirstAlone) {
  if (is_runc()) GTEST_SKIP() << "runc asks systemd for its own properties and paths";
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  Bundle b = make_bundle();
  b.config["linux"]["cgroupsPath"] = "system.slice:urunit:shared";
  b.sh("sleep 1000");
  b.save();
  ASSERT_RUN_OK(rt().run({"--systemd-cgroup", "create", "--bundle", b.dir, "sd1"}, opts_));
  const pid_t pid = rt().state("sd1").value("pid", 0);
  ASSERT_GT(pid, 0);
  const std::string scope = "/system.slice/urunit-shared.scope";
  ASSERT_EQ(cgroup_line(read_file("/proc/" + std::to_string(pid) + "/cgroup"), "pids"), scope);

  for (const char* command : {"create", "run"}) {
    SCOPED_TRACE(command);
    Result r = rt().run({"--systemd-cgroup", command, "--bundle", b.dir, "sd2"}, opts_);
    EXPECT_NE(r.exit_code, 0) << r.describe();
    ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
    EXPECT_NE(r.err.find("already loaded"), std::string::npos) << r.describe();
    EXPECT_TRUE(calls_named("StopUnit").empty()) << "the first container's scope was stopped";
    EXPECT_EQ(state_entries(), std::vector<std::string>{"sd1"});
    EXPECT_TRUE(pid_alive(pid));
    for (const auto& h : hierarchies())
      EXPECT_TRUE(path_exists(std::string(kCgroupRoot) + "/" + h + scope)) << h << " removed";
  }
  EXPECT_EQ(rt().status("sd1"), "created");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "sd1"}));
  EXPECT_EQ(calls_named("StopUnit").size(), 1u);
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// A slice frozen before the container comes (v1 freezer): the create fails before systemd
// is asked for a scope, instead of hanging with its init frozen in it.
TEST_P(SystemdCgroupRoot, FrozenSliceIsAnErrorNotAHang) {
  if (is_runc()) GTEST_SKIP() << "runc asks systemd for its own properties and paths";
  const std::string slice = "urunitfrz" + std::to_string(::getpid()) + ".slice";
  const std::string freezer = std::string(kCgroupRoot) + "/freezer/" + slice;
  if (!path_exists(std::string(kCgroupRoot) + "/freezer/freezer.state") &&
      !path_exists(std::string(kCgroupRoot) + "/freezer/cgroup.procs"))
    GTEST_SKIP() << "no v1 freezer hierarchy";
  // Whatever happens, the slice is thawed and goes with everything below it.
  struct RemoveSlice {
    std::string slice;
    ~RemoveSlice() {
      std::vector<std::string> dirs;
      for (const auto& h : hierarchies())
        dirs.push_back(std::string(kCgroupRoot) + "/" + h + "/" + slice);
      remove_cgroup_trees(dirs);
    }
  } remove_slice{slice};
  ASSERT_EQ(::mkdir(freezer.c_str(), 0755), 0);
  write_file(freezer + "/freezer.state", "FROZEN");
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  Bundle b = make_bundle();
  b.config["linux"]["cgroupsPath"] = slice + ":urunit:frozen";
  b.sh("echo ran");
  b.save();
  RunOptions o = opts_;
  o.timeout = std::chrono::seconds(8);
  Result r = rt().run({"--systemd-cgroup", "run", "--bundle", b.dir, "sdf"}, o);
  ASSERT_NE(r.exit_code, -1) << "run hung on a frozen slice\n" << r.describe();
  expect_clean_failure(r, "is frozen");
  EXPECT_TRUE(calls_named("StartTransientUnit").empty());
  EXPECT_EQ(trim(read_file(freezer + "/freezer.state")), "FROZEN") << "the slice was thawed";
}

// urun loads libsystemd only when it talks to systemd (src/cgroups/systemd/systemd_library.cpp).
// Without it (here: /dev/null bound over the library in a private mount namespace), the
// explicit systemd manager fails with one line naming the loader's reason, before any
// call to systemd.
TEST_P(SystemdCgroupRoot, WithoutLibsystemdExplicitFailsCleanly) {
  if (is_runc()) GTEST_SKIP() << "urun's wording";
  Dl_info info{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(&sd_bus_new), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  const std::string library = info.dli_fname;  // the libsystemd.so.0 this test links
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  Bundle b = make_bundle();
  b.sh("echo ran");
  b.save();
  const std::string script = "mount --bind /dev/null \"$1\" && shift && r=$0 && exec \"$r\" \"$@\"";
  RunOptions o = opts_;
  o.cwd = dir();
  Result r = run_as(
      identity(),
      {"unshare", "-m", "--propagation", "private", "sh", "-c", script, world().runtime(), library,
       "--root", rt().state_root(), "--systemd-cgroup", "run", "--bundle", b.dir, "nolib"},
      dir() + "/io", o);
  expect_clean_failure(r, "cgroup manager `systemd`: not available: load libsystemd: ");
  EXPECT_TRUE(r.out.empty()) << r.describe();
  EXPECT_TRUE(fake_->calls().empty()) << r.describe();
}

// On a unified host (emulated: urun runs with /sys/fs/cgroup/unified bound over
// /sys/fs/cgroup, see cgroup_v2_test.cpp) the init runs in the scope's "container"
// subgroup, or further down in run.oci.delegate-cgroup, and the container's cgroup mount
// shows the subgroup that holds the limits.
TEST_P(SystemdCgroupRoot, UnifiedHostSubgroupDelegateAndCgroupMount) {
  if (is_runc()) GTEST_SKIP() << "runc asks systemd for its own properties and paths";
  if (!path_exists("/sys/fs/cgroup/unified/cgroup.procs"))
    GTEST_SKIP() << "no cgroup2 tree at /sys/fs/cgroup/unified";
  const std::string unified = "/sys/fs/cgroup/unified";
  const bool made_slice = !path_exists(unified + "/system.slice");
  fake_ = std::make_unique<urun_test::FakeSystemd>(bus_->address(), kCgroupRoot,
                                                   std::vector<std::string>{});
  Bundle b = make_bundle();
  b.config["annotations"]["run.oci.delegate-cgroup"] = "payload";
  b.sh(
      "grep '^0::' /proc/self/cgroup; grep ' /sys/fs/cgroup ' /proc/self/mountinfo; "
      "ls -d /sys/fs/cgroup/payload");
  b.save();
  const std::string script =
      "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && r=$0 && exec \"$r\" \"$@\"";
  RunOptions o = opts_;
  o.cwd = dir();
  Result r =
      run_as(identity(),
             {"unshare", "-m", "--propagation", "private", "sh", "-c", script, world().runtime(),
              "--root", rt().state_root(), "--systemd-cgroup", "run", "--bundle", b.dir, "sdv2"},
             dir() + "/io", o);
  auto starts = calls_named("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u) << r.describe();
  const std::string scope = "/system.slice/" + starts[0].unit;
  if (made_slice) host_sh("rmdir " + unified + "/system.slice 2>/dev/null; true");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_EQ(lines[0], "0::" + scope + "/container/payload");
  EXPECT_NE(lines[1].find(" " + scope + "/container /sys/fs/cgroup ro,"), std::string::npos)
      << r.describe();
  EXPECT_NE(lines[1].find(" - cgroup2 "), std::string::npos) << r.describe();
  EXPECT_EQ(lines[2], "/sys/fs/cgroup/payload");
  EXPECT_FALSE(path_exists(unified + scope)) << "scope cgroup left behind";
  EXPECT_EQ(calls_named("StopUnit").size(), 1u);

  // With a cgroup namespace it is made in the subgroup, before the move to the delegate.
  b.add_namespace("cgroup");
  b.save();
  r = run_as(identity(),
             {"unshare", "-m", "--propagation", "private", "sh", "-c", script, world().runtime(),
              "--root", rt().state_root(), "--systemd-cgroup", "run", "--bundle", b.dir, "sdv2n"},
             dir() + "/io", o);
  if (made_slice) host_sh("rmdir " + unified + "/system.slice 2>/dev/null; true");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_EQ(lines[0], "0::/payload");
  EXPECT_NE(lines[1].find(" / /sys/fs/cgroup ro,"), std::string::npos) << r.describe();
  EXPECT_EQ(lines[2], "/sys/fs/cgroup/payload");
  EXPECT_EQ(calls_named("StopUnit").size(), 2u);
}

// Unprivileged, systemd could only delegate a cgroup v2 subtree; this hybrid host has
// no controllers there, so an explicit choice fails with the reason.
TEST_P(SystemdCgroupRootless, NeedsCgroupV2) {
  if (is_runc()) GTEST_SKIP() << "urun's wording";
  Bundle b = make_bundle();
  b.sh("echo ran");
  b.save();
  RunOptions o;
  o.extra_env = {"DBUS_SESSION_BUS_ADDRESS=" + bus_->address()};
  Result r = rt().run({"--systemd-cgroup", "run", "--bundle", b.dir, "sdu"}, o);
  expect_clean_failure(r, "only on cgroup v2");
}

// run.oci.systemd.force_cgroup_v1: the cgroup mount becomes a tmpfs holding only the
// name=systemd v1 hierarchy (this host has one mounted, as the manual requires).
class ForceCgroupV1 : public IntegrationTest {};

TEST_P(ForceCgroupV1, NamedSystemdHierarchyReplacesTheCgroupMount) {
  if (is_runc()) GTEST_SKIP() << "a crun annotation";
  Bundle b = make_bundle();
  b.config["annotations"]["run.oci.systemd.force_cgroup_v1"] = "/sys/fs/cgroup";
  // The annotation overrides the mount at that destination: the rootless spec has none.
  bool has_mount = false;
  for (const auto& m : b.config["mounts"]) has_mount |= m["destination"] == "/sys/fs/cgroup";
  if (!has_mount)
    b.add_mount({{"destination", "/sys/fs/cgroup"},
                 {"type", "cgroup"},
                 {"source", "cgroup"},
                 {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
  // Unprivileged, the kernel mounts a v1 hierarchy only in a cgroup namespace the
  // container owns.
  if (!b.has_namespace("cgroup")) b.add_namespace("cgroup");
  b.sh("grep ' /sys/fs/cgroup' /proc/self/mountinfo; echo --; ls /sys/fs/cgroup");
  b.save();
  Result r = run_container(b, "v1");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  // The last mounts at each place are the ones the container sees (a rootless /sys is
  // the host's, bound with its sub-mounts, before the cgroup mount covers them).
  std::string top, sub;
  std::vector<std::string> listing;
  bool after = false;
  for (const auto& line : split_lines(r.out)) {
    if (line == "--")
      after = true;
    else if (after)
      listing.push_back(line);
    else if (line.find(" /sys/fs/cgroup ") != std::string::npos)
      top = line;
    else if (line.find(" /sys/fs/cgroup/systemd ") != std::string::npos)
      sub = line;
  }
  EXPECT_NE(top.find(" /sys/fs/cgroup ro,"), std::string::npos) << r.describe();
  EXPECT_NE(top.find(" - tmpfs "), std::string::npos) << r.describe();
  EXPECT_NE(sub.find(" /sys/fs/cgroup/systemd ro,"), std::string::npos) << r.describe();
  EXPECT_NE(sub.find(" - cgroup "), std::string::npos) << r.describe();
  EXPECT_NE(sub.find("name=systemd"), std::string::npos) << r.describe();
  EXPECT_EQ(listing, std::vector<std::string>{"systemd"}) << r.describe();
}

URUN_IT_INSTANTIATE(ForceCgroupV1);

// Root only: the scope's directories are made in the host's real hierarchies.
URUN_IT_INSTANTIATE_ONLY(SystemdCgroupRoot, root);
URUN_IT_INSTANTIATE_ONLY(SystemdCgroupRootless, rootless);

}  // namespace
}  // namespace urun_it
