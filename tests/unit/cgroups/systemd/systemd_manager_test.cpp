// The systemd cgroup manager against a private dbus-daemon and a fake systemd
// (systemd_fake.hpp): the unit and slice each cgroupsPath gives, the properties sent,
// the resources written into the scope's cgroup on a fake tree, the state record, stop
// on destroy, clean errors from the service, and the reasons when there is no systemd.
#include "cgroups/systemd/systemd_manager.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cgroups/manager.hpp"
#include "common/error.hpp"
#include "errors.hpp"
#include "files.hpp"
#include "systemd_fake.hpp"
#include "temp_dir.hpp"

namespace {

using urun_test::slurp;

using urun_test::TempDir;

namespace cg = urun::cgroups;
namespace sfs = std::filesystem;
using urun_test::FakeSystemd;
using urun_test::PrivateBus;
using urun_test::UnitCall;

// Above the kernel's largest pid_max: never a real process, whatever a bug signals.
constexpr pid_t kFakePid = 5000001;

class SystemdManager : public ::testing::Test {
 protected:
  void SetUp() override {
    root = t.path() + "/cgroup";
    urun_test::fill_cgroup_dir(root);
    bus = std::make_unique<PrivateBus>(t.path());
    req.kind = "systemd";
    req.root = root;
    req.layout = cg::Layout::unified;
    req.container_id = "c1";
    req.proc_self_cgroup = t.path() + "/none";
    req.systemd_bus = bus->address();
  }
  void start_fake(std::vector<std::string> hierarchies = {""}) {
    fake = std::make_unique<FakeSystemd>(bus->address(), root, std::move(hierarchies));
    fake->set_scope_children({"container"});
  }
  std::vector<UnitCall> calls_named(const std::string& method) {
    std::vector<UnitCall> out;
    for (auto& c : fake->calls())
      if (c.method == method) out.push_back(c);
    return out;
  }
  // The fake tree keeps written pids: empty the files, as the kernel would once the
  // processes are gone, so destroy has nothing to kill.
  void forget_pids() {
    for (auto& e : sfs::recursive_directory_iterator(root))
      if (e.path().filename() == "cgroup.procs") std::ofstream(e.path()).close();
  }

  TempDir t;
  std::string root;
  std::unique_ptr<PrivateBus> bus;
  std::unique_ptr<FakeSystemd> fake;
  cg::ManagerRequest req;
};

TEST_F(SystemdManager, StartsAScopeAndWritesTheResourcesIntoIt) {
  start_fake();
  req.cgroups_path = "machine-libpod.slice:libpod:abc";
  auto choice = cg::make_manager(req);
  ASSERT_EQ(choice.manager->kind(), "systemd");
  EXPECT_TRUE(choice.reasons.empty());
  cg::Manager& m = *choice.manager;
  const std::string scope = "/machine.slice/machine-libpod.slice/libpod-abc.scope";
  EXPECT_EQ(m.path(), scope + "/container");  // expected place before the scope exists
  EXPECT_EQ(m.dir_fd(), -1);                  // joins by pid: a scope needs one

  cg::Resources r;
  r.memory = cg::MemoryResources{};
  r.memory->limit = 512 * 1024 * 1024;
  r.pids = cg::PidsResources{64};
  m.create();
  m.apply(r);  // kept until the scope exists
  EXPECT_TRUE(calls_named("StartTransientUnit").empty());
  EXPECT_FALSE(sfs::exists(root + scope));
  m.add_process(kFakePid);

  auto starts = calls_named("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].unit, "libpod-abc.scope");
  EXPECT_EQ(starts[0].mode, "fail");
  auto& p = starts[0].properties;
  EXPECT_EQ(p["PIDs"], std::to_string(kFakePid));
  EXPECT_EQ(p["Delegate"], "true");
  EXPECT_EQ(p["Slice"], "machine-libpod.slice");
  EXPECT_EQ(p["Description"], "urun container c1");
  EXPECT_EQ(p["DefaultDependencies"], "false");
  EXPECT_EQ(p["MemoryMax"], "536870912");
  EXPECT_EQ(p["TasksMax"], "64");
  EXPECT_EQ(p["MemoryAccounting"], "true");

  // The init moved to the subgroup, whose files carry the limits.
  const std::string dir = root + scope + "/container";
  EXPECT_EQ(m.path(), scope + "/container");
  EXPECT_EQ(slurp(dir + "/cgroup.procs"), std::to_string(kFakePid));
  EXPECT_EQ(slurp(dir + "/memory.max"), "536870912");
  EXPECT_EQ(slurp(dir + "/pids.max"), "64");
  // The scope hands its controllers down once the init has left it.
  EXPECT_NE(slurp(root + scope + "/cgroup.subtree_control").find("+memory"), std::string::npos);
  EXPECT_EQ(m.pids(), std::vector<pid_t>{kFakePid});

  // The record lets later commands find the scope and the bus.
  nlohmann::json state = m.to_state();
  EXPECT_EQ(state["manager"], "systemd");
  EXPECT_EQ(state["unit"], "libpod-abc.scope");
  EXPECT_EQ(state["scope"], scope);
  EXPECT_EQ(state["bus"], bus->address());
  auto again = cg::manager_from_state(state);
  EXPECT_EQ(again->kind(), "systemd");
  EXPECT_EQ(again->path(), scope + "/container");
  EXPECT_EQ(again->pids(), std::vector<pid_t>{kFakePid});

  // update: systemd gets the new limit as a property, the file gets it too.
  r.memory->limit = 256 * 1024 * 1024;
  std::ofstream(dir + "/memory.max").close();  // knob files of the fake tree append
  again->apply(r);
  auto sets = calls_named("SetUnitProperties");
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].unit, "libpod-abc.scope");
  EXPECT_EQ(sets[0].mode, "runtime");
  EXPECT_EQ(sets[0].properties["MemoryMax"], "268435456");
  EXPECT_EQ(slurp(dir + "/memory.max"), "268435456");

  forget_pids();
  again->destroy();
  auto stops = calls_named("StopUnit");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].unit, "libpod-abc.scope");
  EXPECT_EQ(stops[0].mode, "replace");
  EXPECT_FALSE(sfs::exists(root + scope)) << "scope cgroup left behind";
  EXPECT_TRUE(sfs::exists(root + "/machine.slice"));  // the slice is systemd's, kept
}

// Each cgroupsPath form: the unit name, the slice, and where the scope lands.
TEST_F(SystemdManager, UnitAndSliceFromEachCgroupsPathForm) {
  start_fake();
  struct Case {
    std::optional<std::string> path;
    bool rootless;
    std::string unit, slice, cgroup;
  };
  const std::vector<Case> cases = {
      {std::nullopt, false, "urun-c1.scope", "system.slice", "/system.slice/urun-c1.scope"},
      {":p:n", true, "p-n.scope", "user.slice", "/user.slice/p-n.scope"},
      {"a-b.slice::n", false, "n.scope", "a-b.slice", "/a.slice/a-b.slice/n.scope"},
      {"-.slice:p:n2", false, "p-n2.scope", "-.slice", "/p-n2.scope"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path.value_or("(none)"));
    req.cgroups_path = c.path;
    req.rootless = c.rootless;
    auto m = cg::make_manager(req).manager;
    ASSERT_EQ(m->kind(), "systemd");
    m->add_process(kFakePid);
    auto starts = calls_named("StartTransientUnit");
    ASSERT_FALSE(starts.empty());
    EXPECT_EQ(starts.back().unit, c.unit);
    EXPECT_EQ(starts.back().properties["Slice"], c.slice);
    auto* sd = dynamic_cast<cg::Systemd*>(m.get());
    ASSERT_NE(sd, nullptr);
    EXPECT_EQ(sd->scope_cgroup(), c.cgroup);
    EXPECT_TRUE(sfs::is_directory(root + c.cgroup + "/container"));
    forget_pids();
    m->destroy();
    EXPECT_FALSE(sfs::exists(root + c.cgroup));
  }
}

// run.oci.systemd.subgroup and run.oci.delegate-cgroup: limits on the subgroup, the
// process in the delegated cgroup below it.
TEST_F(SystemdManager, SubgroupAndDelegatedCgroup) {
  start_fake();
  fake->set_scope_children({"app", "app/payload"});
  req.systemd_subgroup = "app";
  req.delegate_cgroup = "payload";
  auto m = cg::make_manager(req).manager;
  cg::Resources r;
  r.pids = cg::PidsResources{10};
  m->apply(r);
  m->add_process(kFakePid);
  const std::string scope = root + "/system.slice/urun-c1.scope";
  EXPECT_EQ(slurp(scope + "/app/payload/cgroup.procs"), std::to_string(kFakePid));
  EXPECT_EQ(slurp(scope + "/app/pids.max"), "10");
  EXPECT_EQ(slurp(scope + "/app/payload/pids.max"), "");  // left to the payload
  EXPECT_EQ(m->to_state()["subgroup"], "app");
  EXPECT_EQ(m->to_state()["delegate"], "payload");
  forget_pids();
  m->destroy();
  EXPECT_FALSE(sfs::exists(scope));

  // An empty annotation: no subgroup, the init stays in the scope itself.
  req.systemd_subgroup = "";
  req.delegate_cgroup.clear();
  m = cg::make_manager(req).manager;
  m->add_process(kFakePid);
  EXPECT_EQ(m->path(), "/system.slice/urun-c1.scope");
  EXPECT_EQ(slurp(scope + "/cgroup.procs"), std::to_string(kFakePid));
  forget_pids();
  m->destroy();
}

// On cgroup v1 and hybrid hosts the scope's path is joined in every hierarchy, and the
// default subgroup is none (crun's manual).
TEST_F(SystemdManager, HybridHostJoinsEveryHierarchy) {
  const std::string v1 = t.path() + "/v1";
  for (const char* h : {"memory", "pids", "cpu,cpuacct", "systemd", "unified"}) {
    urun_test::fill_cgroup_dir(v1 + "/" + h);
    if (std::string(h) == "unified") continue;
    sfs::remove(v1 + "/" + h + "/cgroup.controllers");  // v1 hierarchies have none
  }
  root = v1;
  req.root = v1;
  req.layout = cg::Layout::hybrid;
  start_fake({"memory", "pids", "cpu,cpuacct", "systemd", "unified"});
  fake->set_scope_children({});
  auto m = cg::make_manager(req).manager;
  cg::Resources r;
  r.memory = cg::MemoryResources{};
  r.memory->limit = 1 << 30;
  r.cpu = cg::CpuResources{};
  r.cpu->shares = 512;
  m->apply(r);
  m->add_process(kFakePid);
  auto starts = calls_named("StartTransientUnit");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].properties["CPUShares"], "512");  // v1: shares, not weight
  EXPECT_EQ(starts[0].properties.count("CPUWeight"), 0u);
  const std::string scope = "/system.slice/urun-c1.scope";
  EXPECT_EQ(m->path(), scope);
  EXPECT_EQ(slurp(v1 + "/memory" + scope + "/memory.limit_in_bytes"), "1073741824");
  for (const char* h : {"memory", "pids", "cpu,cpuacct", "systemd", "unified"})
    EXPECT_EQ(slurp(v1 + "/" + h + scope + "/cgroup.procs"), std::to_string(kFakePid)) << h;
  auto again = cg::manager_from_state(m->to_state());
  forget_pids();
  again->destroy();
  for (const char* h : {"memory", "pids", "cpu,cpuacct", "systemd", "unified"})
    EXPECT_FALSE(sfs::exists(v1 + "/" + h + scope)) << h;
  EXPECT_EQ(calls_named("StopUnit").size(), 1u);
}

TEST_F(SystemdManager, ServiceErrorIsOneCleanLine) {
  start_fake();
  fake->fail_next_start("org.freedesktop.systemd1.UnitExists",
                        "Unit urun-c1.scope already exists.");
  auto m = cg::make_manager(req).manager;
  EXPECT_EQ(urun_test::what_of([&] { m->add_process(kFakePid); }),
            "start systemd unit `urun-c1.scope`: Unit urun-c1.scope already exists.");
  EXPECT_FALSE(sfs::exists(root + "/system.slice/urun-c1.scope"));
  // The failed create's clean-up (destroy) asks systemd to stop the unit it may know.
  m->destroy();
  EXPECT_EQ(calls_named("StopUnit").size(), 1u);
}

TEST_F(SystemdManager, FailedJobIsAnError) {
  start_fake();
  fake->set_job_result("failed");
  auto m = cg::make_manager(req).manager;
  EXPECT_EQ(urun_test::what_of([&] { m->add_process(kFakePid); }),
            "start systemd unit `urun-c1.scope`: the systemd job ended with `failed`");
  fake->set_job_result("done");
  forget_pids();
  m->destroy();
}

// A bus without systemd on it: the automatic choice falls back with the reason; asked
// for by name, it is an error.
TEST_F(SystemdManager, BusWithoutSystemd) {
  req.kind = "auto";
  auto choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "cgroupfs");
  ASSERT_EQ(choice.reasons.size(), 1u);
  EXPECT_EQ(choice.reasons[0],
            "systemd: not available: org.freedesktop.systemd1 is not on the "
            "bus at " +
                bus->address());
  req.kind = "systemd";
  EXPECT_EQ(urun_test::what_of([&] { cg::make_manager(req); }),
            "cgroup manager `systemd`: not available: org.freedesktop.systemd1 is not on "
            "the bus at " +
                bus->address());
}

// No bus at all, and a cgroupsPath systemd cannot use: reasons, then cgroupfs.
TEST_F(SystemdManager, FallbackReasons) {
  req.kind = "auto";
  req.systemd_bus = t.path() + "/no-bus";
  auto choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "cgroupfs");
  ASSERT_EQ(choice.reasons.size(), 1u);
  EXPECT_EQ(choice.reasons[0], "systemd: not available: no systemd bus at " + t.path() + "/no-bus");
  start_fake();
  req.systemd_bus = bus->address();
  req.cgroups_path = "/plain/path";
  choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "cgroupfs");
  ASSERT_EQ(choice.reasons.size(), 1u);
  EXPECT_EQ(choice.reasons[0],
            "systemd: not available: cgroupsPath `/plain/path` is not slice:prefix:name");
  EXPECT_EQ(choice.manager->path(), "/plain/path");
  // Asked for by name, such a path is an error naming it.
  req.kind = "systemd";
  EXPECT_THROW(cg::make_manager(req), urun::Error);
  // A slice as the container's unit: cgroupfs can make that directory, systemd needs a
  // scope.
  req.kind = "auto";
  req.cgroups_path = "system.slice:p:inner.slice";
  choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "cgroupfs");
  EXPECT_EQ(choice.manager->path(), "/system.slice/inner.slice");
  ASSERT_EQ(choice.reasons.size(), 1u);
  EXPECT_NE(choice.reasons[0].find("must be a scope"), std::string::npos) << choice.reasons[0];
  // The automatic choice takes systemd when it is there.
  req.kind = "auto";
  req.cgroups_path.reset();
  EXPECT_EQ(cg::make_manager(req).manager->kind(), "systemd");
}

}  // namespace
