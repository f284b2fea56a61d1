// cgroupfs managers against fake cgroup trees in a temp dir, path choice and the factory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cgroups/cgroupfs/cgroupfs_v1.hpp"
#include "cgroups/cgroupfs/cgroupfs_v2.hpp"
#include "cgroups/factory.hpp"
#include "common/error.hpp"
#include "errors.hpp"
#include "files.hpp"
#include "temp_dir.hpp"

namespace {

using urun_test::put;
using urun_test::slurp;

using urun_test::TempDir;

namespace cg = urun::cgroups;
namespace sfs = std::filesystem;
using nlohmann::json;

// Pids written into fake trees: above the kernel's largest pid_max (2^22), so a bug that
// signals them can never reach a real process.
constexpr pid_t kFakePid = 5000001;
constexpr pid_t kFakePid2 = 5000002;
constexpr pid_t kFakePid3 = 5000003;

// The files the kernel shows in a v2 cgroup with memory, pids, cpu, cpuset, io, hugetlb
// enabled.
void make_v2_cgroup(const sfs::path& dir) {
  for (const char* f :
       {"cgroup.procs", "cgroup.freeze", "cgroup.kill", "cgroup.subtree_control", "memory.max",
        "memory.low", "memory.swap.max", "pids.max", "cpu.weight", "cpu.max", "cpuset.cpus",
        "cpuset.mems", "io.weight", "io.max", "hugetlb.2MB.max", "memory.high"})
    put(dir / f);
  put(dir / "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
}

TEST(CgroupFakeV2, CreateEnablesControllersInEveryAncestor) {
  TempDir t;
  const sfs::path root = t.path();
  make_v2_cgroup(root);
  make_v2_cgroup(root / "outer");
  put(root / "outer" / "cgroup.subtree_control", "memory pids\n");
  cg::CgroupfsV2 m(t.path(), "/outer/c1");
  m.create();
  EXPECT_TRUE(sfs::is_directory(root / "outer" / "c1"));
  EXPECT_EQ(slurp(root / "cgroup.subtree_control"), "+cpu +cpuset +hugetlb +io +memory +pids");
  // Only the missing ones are written; the leaf gets nothing (it will hold processes).
  EXPECT_EQ(slurp(root / "outer" / "cgroup.subtree_control"),
            "memory pids\n+cpu +cpuset +hugetlb +io");
  EXPECT_GE(m.dir_fd(), 0);
  struct stat a {
  }, b{};
  ASSERT_EQ(::fstat(m.dir_fd(), &a), 0);
  ASSERT_EQ(::stat((root / "outer" / "c1").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(m.path(), "/outer/c1");
}

TEST(CgroupFakeV2, ApplyWritesTheExactFiles) {
  TempDir t;
  const sfs::path leaf = sfs::path(t.path()) / "urun" / "c1";
  make_v2_cgroup(leaf);  // io.bfq.weight absent: the io.weight fallback is used
  cg::CgroupfsV2 m(t.path(), "/urun/c1");
  m.create();
  m.apply(cg::parse_resources(json{
      {"memory", {{"limit", 1048576}, {"swap", 2097152}, {"reservation", 4096}}},
      {"cpu", {{"shares", 262144}, {"quota", 10000}, {"cpus", "0"}, {"mems", "0"}}},
      {"pids", {{"limit", 32}}},
      {"blockIO",
       {{"weight", 1000},
        {"throttleReadBpsDevice", {{{"major", 8}, {"minor", 0}, {"rate", 100}}}},
        {"throttleWriteBpsDevice", {{{"major", 8}, {"minor", 0}, {"rate", 200}}}}}},
      {"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 4194304}}}},
      {"unified", {{"memory.high", "900000"}}},
  }));
  EXPECT_EQ(slurp(leaf / "memory.max"), "1048576");
  EXPECT_EQ(slurp(leaf / "memory.swap.max"), "1048576");
  EXPECT_EQ(slurp(leaf / "memory.low"), "4096");
  EXPECT_EQ(slurp(leaf / "cpu.weight"), "10000");
  EXPECT_EQ(slurp(leaf / "cpu.max"), "10000 100000");
  EXPECT_EQ(slurp(leaf / "cpuset.cpus"), "0");
  EXPECT_EQ(slurp(leaf / "cpuset.mems"), "0");
  EXPECT_EQ(slurp(leaf / "pids.max"), "32");
  EXPECT_EQ(slurp(leaf / "io.weight"), "10000");
  EXPECT_FALSE(sfs::exists(leaf / "io.bfq.weight"));
  EXPECT_EQ(slurp(leaf / "io.max"), "8:0 rbps=100 wbps=200");
  EXPECT_EQ(slurp(leaf / "hugetlb.2MB.max"), "4194304");
  EXPECT_EQ(slurp(leaf / "memory.high"), "900000");
}

TEST(CgroupFakeV2, BfqWeightPreferredAndMissingControllerNamed) {
  TempDir t;
  const sfs::path leaf = sfs::path(t.path()) / "c";
  make_v2_cgroup(leaf);
  put(leaf / "io.bfq.weight");
  cg::CgroupfsV2 m(t.path(), "/c");
  m.create();
  m.apply(cg::parse_resources(json{{"blockIO", {{"weight", 10}}}}));
  EXPECT_EQ(slurp(leaf / "io.bfq.weight"), "10");
  EXPECT_EQ(slurp(leaf / "io.weight"), "");
  try {
    m.apply(cg::parse_resources(json{{"rdma", {{"mlx4_0", {{"hcaHandles", 1}}}}}}));
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "write `" + (leaf / "rdma.max").string() +
                                         "`: controller `rdma` is not available in this cgroup");
    EXPECT_EQ(e.code(), ENOENT);
  }
}

TEST(CgroupFakeV2, CheckBeforeUpdateRefusesALimitBelowUsage) {
  TempDir t;
  const sfs::path leaf = sfs::path(t.path()) / "c";
  make_v2_cgroup(leaf);
  put(leaf / "memory.current", "5000\n");
  cg::CgroupfsV2 m(t.path(), "/c");
  EXPECT_THROW(m.apply(cg::parse_resources(
                   json{{"memory", {{"limit", 4096}, {"checkBeforeUpdate", true}}}})),
               urun::Error);
  EXPECT_EQ(slurp(leaf / "memory.max"), "");
  m.apply(cg::parse_resources(json{{"memory", {{"limit", 4096}}}}));
  EXPECT_EQ(slurp(leaf / "memory.max"), "4096");
}

TEST(CgroupFakeV2, FreezeAddProcessPidsDelegateAndDestroy) {
  TempDir t;
  const sfs::path c = sfs::path(t.path()) / "c";
  make_v2_cgroup(c);
  make_v2_cgroup(c / "payload");
  put(c / "sub" / "cgroup.procs", std::to_string(kFakePid3) + "\n");
  put(c / "cgroup.procs", std::to_string(kFakePid) + "\n" + std::to_string(kFakePid3) + "\n");
  cg::CgroupfsV2 m(t.path(), "/c", "payload");
  m.create();
  m.add_process(kFakePid2);
  // Processes go to the delegate.
  EXPECT_EQ(slurp(c / "payload" / "cgroup.procs"), std::to_string(kFakePid2));
  EXPECT_EQ(m.pids(), (std::vector<pid_t>{kFakePid, kFakePid2, kFakePid3}));
  m.freeze();
  EXPECT_EQ(slurp(c / "cgroup.freeze"), "1");
  EXPECT_TRUE(m.is_frozen());
  EXPECT_EQ(m.to_state(), (json{{"manager", "cgroupfs"},
                                {"layout", "unified"},
                                {"root", t.path()},
                                {"path", "/c"},
                                {"delegate", "payload"}}));
  // Emptied so destroy has nothing to kill (fake pids must never be signalled).
  put(c / "cgroup.procs");
  put(c / "sub" / "cgroup.procs");
  put(c / "payload" / "cgroup.procs");
  auto again = cg::manager_from_state(m.to_state());
  EXPECT_EQ(again->path(), "/c");
  again->destroy();
  EXPECT_FALSE(sfs::exists(c));
  EXPECT_TRUE(sfs::exists(t.path()));
  again->destroy();  // idempotent
}

// run.oci.delegate-cgroup with a cgroup namespace: the init first joins the container's
// cgroup (which therefore delegates no controller yet), then enter_delegate() moves it.
TEST(CgroupFakeV2, DelegateLaterJoinsTheContainersCgroupFirst) {
  TempDir t;
  const sfs::path c = sfs::path(t.path()) / "c";
  make_v2_cgroup(c);
  make_v2_cgroup(c / "payload");
  cg::CgroupfsV2 m(t.path(), "/c", "payload", true);
  m.create();
  struct stat a {
  }, b{};
  ASSERT_EQ(::fstat(m.dir_fd(), &a), 0);
  ASSERT_EQ(::stat(c.c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);  // CLONE_INTO_CGROUP lands in the container's cgroup
  EXPECT_EQ(slurp(c / "cgroup.subtree_control"), "");
  m.add_process(kFakePid2);
  EXPECT_EQ(slurp(c / "cgroup.procs"), std::to_string(kFakePid2));
  EXPECT_EQ(slurp(c / "payload" / "cgroup.procs"), "");
  m.enter_delegate(kFakePid2);
  EXPECT_EQ(slurp(c / "payload" / "cgroup.procs"), std::to_string(kFakePid2));
  EXPECT_EQ(slurp(c / "cgroup.subtree_control"), "+cpu +cpuset +hugetlb +io +memory +pids");
  // From now on (exec) processes go to the delegate.
  put(c / "payload" / "cgroup.procs");
  m.add_process(kFakePid3);
  EXPECT_EQ(slurp(c / "payload" / "cgroup.procs"), std::to_string(kFakePid3));
  put(c / "cgroup.procs");
  put(c / "payload" / "cgroup.procs");
  m.destroy();
}

TEST(CgroupFakeV2, RootCgroupIsRefused) {
  EXPECT_THROW(cg::CgroupfsV2("/tmp", "/"), urun::Error);
  EXPECT_THROW(cg::CgroupfsV2("/tmp", "/a/.."), urun::Error);
}

const char* const kV1Hierarchies[] = {"memory", "pids",    "cpu,cpuacct", "cpuset",
                                      "blkio",  "devices", "freezer",     "systemd"};

// A legacy tree: one directory per hierarchy, cpu and cpuacct combined behind symlinks.
void make_v1_tree(const sfs::path& root, bool hybrid) {
  for (const char* h : kV1Hierarchies) put(root / h / "cgroup.procs");
  sfs::create_directory_symlink("cpu,cpuacct", root / "cpu");
  sfs::create_directory_symlink("cpu,cpuacct", root / "cpuacct");
  put(root / "cpuset" / "cpuset.cpus", "0-3\n");
  put(root / "cpuset" / "cpuset.mems", "0\n");
  if (hybrid) {
    put(root / "unified" / "cgroup.procs");
    put(root / "unified" / "cgroup.controllers");
  }
}

void make_v1_leaf(const sfs::path& root, const std::string& path) {
  const std::map<std::string, std::vector<std::string>> files = {
      {"memory",
       {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
        "memory.swappiness"}},
      {"pids", {"pids.max"}},
      {"cpu,cpuacct", {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"}},
      {"cpuset", {"cpuset.cpus", "cpuset.mems"}},
      {"blkio", {"blkio.bfq.weight", "blkio.throttle.read_bps_device"}},
      {"devices", {"devices.allow", "devices.deny"}},
      {"freezer", {"freezer.state"}},
      {"systemd", {}},
  };
  for (const auto& [h, list] : files) {
    put(root / h / path.substr(1) / "cgroup.procs");
    for (const auto& f : list) put(root / h / path.substr(1) / f);
  }
}

TEST(CgroupFakeV1, HierarchiesAreListedOnce) {
  TempDir t;
  make_v1_tree(t.path(), true);
  auto hs = cg::list_hierarchies(t.path());
  std::vector<std::string> names;
  for (const auto& h : hs) names.push_back(h.name + "=" + cg::proc_cgroup_key(h));
  EXPECT_EQ(names,
            (std::vector<std::string>{"blkio=blkio", "cpu,cpuacct=cpu,cpuacct", "cpuset=cpuset",
                                      "devices=devices", "freezer=freezer", "memory=memory",
                                      "pids=pids", "systemd=name=systemd", "unified="}));
}

TEST(CgroupFakeV1, CreateCopiesCpusetAndApplyWritesTheExactFiles) {
  TempDir t;
  const sfs::path root = t.path();
  make_v1_tree(root, false);
  make_v1_leaf(root, "/urun/c1");
  put(root / "cpuset" / "urun" / "cpuset.cpus");  // a real intermediate cpuset starts empty
  put(root / "cpuset" / "urun" / "cpuset.mems");
  auto m = cg::CgroupfsV1::same_path(t.path(), "/urun/c1");
  m.create();
  EXPECT_EQ(slurp(root / "cpuset" / "urun" / "c1" / "cpuset.cpus"), "0-3");
  EXPECT_EQ(slurp(root / "cpuset" / "urun" / "c1" / "cpuset.mems"), "0");
  m.apply(cg::parse_resources(json{
      {"memory", {{"limit", 1048576}, {"swap", 2097152}, {"swappiness", 0}}},
      {"cpu", {{"shares", 512}, {"quota", 5000}, {"period", 10000}}},
      {"pids", {{"limit", 10}}},
      {"blockIO",
       {{"weight", 300},
        {"throttleReadBpsDevice", {{{"major", 253}, {"minor", 0}, {"rate", 1000}}}}}},
      {"devices",
       {{{"allow", false}, {"access", "rwm"}},
        {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 5}, {"access", "rwm"}}}},
      {"unified", {{"pids.max", "11"}}},
  }));
  const sfs::path mem = root / "memory" / "urun" / "c1";
  EXPECT_EQ(slurp(mem / "memory.limit_in_bytes"), "1048576");
  EXPECT_EQ(slurp(mem / "memory.memsw.limit_in_bytes"), "2097152");
  EXPECT_EQ(slurp(mem / "memory.swappiness"), "0");
  const sfs::path cpu = root / "cpu,cpuacct" / "urun" / "c1";
  EXPECT_EQ(slurp(cpu / "cpu.shares"), "512");
  EXPECT_EQ(slurp(cpu / "cpu.cfs_quota_us"), "5000");
  EXPECT_EQ(slurp(cpu / "cpu.cfs_period_us"), "10000");
  EXPECT_EQ(slurp(root / "pids" / "urun" / "c1" / "pids.max"), "1011");  // 10, then unified 11
  const sfs::path blkio = root / "blkio" / "urun" / "c1";
  EXPECT_EQ(slurp(blkio / "blkio.bfq.weight"), "300");  // blkio.weight absent: fallback
  EXPECT_EQ(slurp(blkio / "blkio.throttle.read_bps_device"), "253:0 1000");
  const sfs::path devices = root / "devices" / "urun" / "c1";
  EXPECT_EQ(slurp(devices / "devices.deny"), "a *:* rwm");
  EXPECT_EQ(slurp(devices / "devices.allow"), "c 1:5 rwm");

  m.add_process(kFakePid);
  for (const char* h : kV1Hierarchies)
    EXPECT_EQ(slurp(root / h / "urun" / "c1" / "cgroup.procs"), std::to_string(kFakePid)) << h;
  m.freeze();
  EXPECT_EQ(slurp(root / "freezer" / "urun" / "c1" / "freezer.state"), "FROZEN");
  EXPECT_TRUE(m.is_frozen());

  json state = m.to_state();
  EXPECT_EQ(state["layout"], "legacy");
  EXPECT_EQ(state["paths"]["cpu,cpuacct"], "/urun/c1");
  EXPECT_EQ(m.path(), "/urun/c1");
  for (const char* h : kV1Hierarchies) put(root / h / "urun" / "c1" / "cgroup.procs");
  cg::manager_from_state(state)->destroy();
  for (const char* h : kV1Hierarchies) {
    EXPECT_FALSE(sfs::exists(root / h / "urun" / "c1")) << h;
    EXPECT_TRUE(sfs::exists(root / h / "urun")) << h;
  }
}

TEST(CgroupFakeV1, UnmountedControllerIsAnErrorUnlessOptional) {
  TempDir t;
  make_v1_tree(t.path(), false);
  make_v1_leaf(t.path(), "/c");
  auto m = cg::CgroupfsV1::same_path(t.path(), "/c");
  try {
    m.apply(cg::parse_resources(json{{"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 1}}}}}));
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cgroup controller `hugetlb` is not mounted"),
              std::string::npos)
        << e.what();
  }
  m.apply(cg::parse_resources(json{{"memory", {{"kernel", 1000}}}}));  // optional: skipped
}

TEST(CgroupPath, NormalizeAndEscape) {
  EXPECT_EQ(cg::normalize_cgroup_path("/a/./b/../c/"), "/a/c");
  EXPECT_EQ(cg::normalize_cgroup_path("a//b"), "/a/b");
  EXPECT_EQ(cg::normalize_cgroup_path("/"), "/");
  EXPECT_EQ(cg::normalize_cgroup_path("/a/.."), "/");
  try {
    cg::normalize_cgroup_path("/a/../../etc");
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(), "cgroupsPath `/a/../../etc`: leaves the cgroup tree");
  }
}

TEST(CgroupPath, ResolveAbsoluteRelativeAndDefault) {
  EXPECT_EQ(cg::resolve_cgroup_path("/machine/c1", "/user/me", "id"), "/machine/c1");
  EXPECT_EQ(cg::resolve_cgroup_path("c1", "/user/me", "id"), "/user/me/c1");
  EXPECT_EQ(cg::resolve_cgroup_path("../c1", "/user/me", "id"), "/user/c1");
  EXPECT_EQ(cg::resolve_cgroup_path(std::nullopt, "/user/me", "id"), "/urun/id");
  EXPECT_EQ(cg::resolve_cgroup_path("", "/user/me", "id"), "/urun/id");
  EXPECT_THROW(cg::resolve_cgroup_path("../../../x", "/user/me", "id"), urun::Error);
  EXPECT_THROW(cg::resolve_cgroup_path("/../x", "/", "id"), urun::Error);
  EXPECT_THROW(cg::resolve_cgroup_path(std::nullopt, "/", ".."), urun::Error);
}

TEST(CgroupPath, ParseProcCgroup) {
  auto m = cg::parse_proc_cgroup(
      "9:name=systemd:/\n2:cpu,cpuacct:/a:b\n4:memory:/process_api/x\n0::/user.slice\n");
  EXPECT_EQ(m.at("name=systemd"), "/");
  EXPECT_EQ(m.at("cpu,cpuacct"), "/a:b");
  EXPECT_EQ(m.at("memory"), "/process_api/x");
  EXPECT_EQ(m.at(""), "/user.slice");
}

class CgroupFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    put(sfs::path(t.path()) / "self-cgroup", "0::/user.slice/me\n");
    make_v2_cgroup(sfs::path(t.path()) / "root");
    req.root = t.path() + "/root";
    req.container_id = "c1";
    req.layout = cg::Layout::unified;
    req.proc_self_cgroup = t.path() + "/self-cgroup";
    req.systemd_bus = t.path() + "/no-bus";
  }
  TempDir t;
  cg::ManagerRequest req;
};

TEST_F(CgroupFactory, RootDefaultPathAndRelativePath) {
  auto choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "cgroupfs");
  EXPECT_EQ(choice.manager->path(), "/urun/c1");
  EXPECT_TRUE(choice.reasons.empty());
  req.cgroups_path = "sub/c1";
  EXPECT_EQ(cg::make_manager(req).manager->path(), "/user.slice/me/sub/c1");
  req.cgroups_path = "/../../x";
  EXPECT_THROW(cg::make_manager(req), urun::Error);
}

TEST_F(CgroupFactory, SystemdFallsBackToCgroupfsWithAReason) {
  req.kind = "auto";
  req.cgroups_path = "machine-libpod.slice:libpod:abc";
  auto choice = cg::make_manager(req);
  ASSERT_EQ(choice.reasons.size(), 1u);
  EXPECT_EQ(choice.reasons[0], "systemd: not available: no systemd bus at " + t.path() + "/no-bus");
  EXPECT_EQ(choice.manager->kind(), "cgroupfs");
  EXPECT_EQ(choice.manager->path(), "/machine.slice/machine-libpod.slice/libpod-abc.scope");
}

// Asked for by name, an unreachable systemd is an error (as crun fails without a bus),
// not a silent fallback.
TEST_F(CgroupFactory, ExplicitSystemdWithoutBusFails) {
  req.kind = "systemd";
  EXPECT_EQ(urun_test::what_of([&] { cg::make_manager(req); }),
            "cgroup manager `systemd`: not available: no systemd bus at " + t.path() + "/no-bus");
}

TEST_F(CgroupFactory, RootlessWithoutWritableParentIsDisabledWithReason) {
  req.rootless = true;
  req.uid = 54321;  // owns nothing in the temp tree
  ::chmod(req.root.c_str(), 0755);
  auto choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "disabled");
  ASSERT_EQ(choice.reasons.size(), 1u);
  EXPECT_EQ(choice.reasons[0], "cgroupfs: `" + req.root + "` not writable by uid 54321");
  EXPECT_EQ(choice.manager->to_state(), (json{{"manager", "disabled"}}));
}

TEST_F(CgroupFactory, RootlessUsesItsDelegatedCgroup) {
  req.rootless = true;
  req.uid = ::geteuid() == 0 ? 54321 : ::geteuid();
  const std::string own = req.root + "/user.slice/me";
  sfs::create_directories(own);
  ASSERT_EQ(::chown(own.c_str(), req.uid, static_cast<gid_t>(-1)), 0);
  auto choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "cgroupfs");
  EXPECT_EQ(choice.manager->path(), "/user.slice/me/urun-c1");
}

TEST_F(CgroupFactory, DisabledAndUnknownKinds) {
  req.kind = "disabled";
  auto choice = cg::make_manager(req);
  EXPECT_EQ(choice.manager->kind(), "disabled");
  EXPECT_TRUE(choice.manager->pids().empty());
  EXPECT_THROW(choice.manager->freeze(), urun::Error);
  req.kind = "bogus";
  EXPECT_THROW(cg::make_manager(req), urun::Error);
}

TEST_F(CgroupFactory, V1UsesTheCallersCgroupPerHierarchy) {
  const std::string v1root = t.path() + "/v1";
  make_v1_tree(v1root, true);
  put(sfs::path(t.path()) / "self-cgroup",
      "4:memory:/process_api/x\n2:cpu,cpuacct:/\n9:name=systemd:/s\n0::/\n");
  req.root = v1root;
  req.layout = cg::Layout::hybrid;
  req.cgroups_path = "box";
  auto choice = cg::make_manager(req);
  auto* v1 = dynamic_cast<cg::CgroupfsV1*>(choice.manager.get());
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->paths().at("memory"), "/process_api/x/box");
  EXPECT_EQ(v1->paths().at("cpu,cpuacct"), "/box");
  EXPECT_EQ(v1->paths().at("systemd"), "/s/box");
  EXPECT_EQ(v1->paths().at("unified"), "/box");
  EXPECT_EQ(v1->to_state()["layout"], "hybrid");
  req.delegate_cgroup = "payload";
  EXPECT_THROW(cg::make_manager(req), urun::Error);
}

}  // namespace
