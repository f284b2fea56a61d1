// The cgroupfs managers on this machine's real hierarchies, as root: v1 (legacy or hybrid)
// and the cgroup2 tree (at /sys/fs/cgroup itself or /sys/fs/cgroup/unified). Each test
// uses a uniquely named cgroup and removes it; they skip when not root or when the kernel
// lacks the files.
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "cgroups/cgroupfs/cgroupfs_v1.hpp"
#include "cgroups/cgroupfs/cgroupfs_v2.hpp"
#include "cgroups/factory.hpp"
#include "common/error.hpp"
#include "files.hpp"

namespace {

using urun_test::slurp;

namespace cg = urun::cgroups;
using nlohmann::json;

std::string trimmed(const std::string& path) {
  std::string s = slurp(path);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

pid_t fork_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

// Kills and reaps the child and removes the cgroup whatever the test's outcome.
struct Cleanup {
  pid_t pid = -1;
  cg::Manager* manager = nullptr;
  ~Cleanup() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (manager) {
      try {
        manager->thaw();
      } catch (...) {
      }
      try {
        manager->destroy();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleanup: " << e.what();
      }
    }
  }
};

std::string unique_name(const char* what) {
  static int n = 0;
  return std::string("/urun-cgtest-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++n);
}

int wait_signal(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

// Why the host's cgroup v1 hierarchies cannot be used here; empty when they can.
std::string why_no_host_v1() {
  if (::geteuid() != 0) return "needs root to create cgroups";
  try {
    if (cg::detect_layout("/sys/fs/cgroup") == cg::Layout::unified)
      return "host has no cgroup v1 hierarchies";
  } catch (const urun::Error& e) {
    return e.what();
  }
  return "";
}

TEST(CgroupRealV1, LifecycleOnTheHostHierarchies) {
  if (const std::string why = why_no_host_v1(); !why.empty()) GTEST_SKIP() << why;

  const std::string name = unique_name("v1");
  cg::ManagerRequest req;
  req.cgroups_path = name;
  req.container_id = "cgtest";
  auto choice = cg::make_manager(req);
  auto* m = dynamic_cast<cg::CgroupfsV1*>(choice.manager.get());
  ASSERT_NE(m, nullptr) << choice.manager->kind();
  Cleanup cleanup;
  cleanup.manager = m;
  cleanup.pid = fork_sleeper();
  ASSERT_GT(cleanup.pid, 0);
  const pid_t pid = cleanup.pid;

  m->create(pid);
  const std::string proc = slurp("/proc/" + std::to_string(pid) + "/cgroup");
  for (const auto& h : cg::list_hierarchies("/sys/fs/cgroup"))
    EXPECT_NE(proc.find(":" + cg::proc_cgroup_key(h) + ":" + name + "\n"), std::string::npos)
        << h.name << " in\n"
        << proc;
  EXPECT_EQ(m->pids(), std::vector<pid_t>{pid});

  const std::string pids_dir = m->dir_for("pids");
  const std::string memory_dir = m->dir_for("memory");
  ASSERT_FALSE(pids_dir.empty());
  ASSERT_FALSE(memory_dir.empty());
  m->apply(cg::parse_resources(
      json{{"pids", {{"limit", 10}}}, {"memory", {{"limit", 64 * 1024 * 1024}}}}));
  EXPECT_EQ(trimmed(pids_dir + "/pids.max"), "10");
  EXPECT_EQ(trimmed(memory_dir + "/memory.limit_in_bytes"), "67108864");
  m->apply(cg::parse_resources(json{{"unified", {{"pids.max", "max"}}}}));
  EXPECT_EQ(trimmed(pids_dir + "/pids.max"), "max");

  const std::string freezer = m->dir_for("freezer");
  if (!freezer.empty() && cg::detail::exists(freezer + "/freezer.state")) {
    m->freeze();
    EXPECT_EQ(trimmed(freezer + "/freezer.state"), "FROZEN");
    EXPECT_TRUE(m->is_frozen());
    m->thaw();
    EXPECT_EQ(trimmed(freezer + "/freezer.state"), "THAWED");
    EXPECT_FALSE(m->is_frozen());
  }

  m->kill_all(SIGKILL);
  EXPECT_EQ(wait_signal(pid), SIGKILL);
  cleanup.pid = -1;
  EXPECT_TRUE(m->pids().empty());

  // A later command rebuilds the manager from the state record and deletes.
  auto again = cg::manager_from_state(m->to_state());
  again->destroy();
  cleanup.manager = nullptr;
  for (const auto& h : cg::list_hierarchies("/sys/fs/cgroup"))
    EXPECT_FALSE(cg::detail::exists("/sys/fs/cgroup/" + h.name + name)) << h.name;
}

// As create does: the child is cloned into the cgroup2 tree of a hybrid host (dir_fd()), writes
// "0" to the v1 `tasks` files the parent opened, and the parent writes nothing more.
TEST(CgroupRealV1, AChildJoinsItsV1HierarchiesItself) {
  if (const std::string why = why_no_host_v1(); !why.empty()) GTEST_SKIP() << why;
  const std::string name = unique_name("self");
  auto m = cg::CgroupfsV1::same_path("/sys/fs/cgroup", name);
  Cleanup cleanup;
  cleanup.manager = &m;
  m.create();
  EXPECT_EQ(m.dir_fd() >= 0, cg::detect_layout("/sys/fs/cgroup") == cg::Layout::hybrid);
  const std::vector<cg::SelfJoinFile> files = m.open_self_join_files();
  ASSERT_FALSE(files.empty());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  clone_args args{};
  args.flags = m.dir_fd() >= 0 ? CLONE_INTO_CGROUP : 0;
  args.exit_signal = SIGCHLD;
  if (m.dir_fd() >= 0) args.cgroup = static_cast<uint64_t>(m.dir_fd());
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  bool in_dir_fd = args.flags != 0;
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
    pid = ::fork();
    in_dir_fd = false;
  }
  ASSERT_GE(pid, 0) << strerror(errno);
  if (pid == 0) {
    char ok = 'y';
    for (const auto& f : files)
      if (::write(f.fd.get(), "0", 1) != 1) ok = 'n';
    if (::write(ready[1], &ok, 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  cleanup.pid = static_cast<pid_t>(pid);
  ::close(ready[1]);
  char ok = 0;
  EXPECT_EQ(::read(ready[0], &ok, 1), 1);
  ::close(ready[0]);
  EXPECT_EQ(ok, 'y') << "a write of 0 to a tasks file failed";
  m.add_process_after_clone(cleanup.pid, in_dir_fd);
  const std::string proc = slurp("/proc/" + std::to_string(pid) + "/cgroup");
  for (const auto& h : cg::list_hierarchies("/sys/fs/cgroup"))
    EXPECT_NE(proc.find(":" + cg::proc_cgroup_key(h) + ":" + name + "\n"), std::string::npos)
        << h.name << " in\n"
        << proc;
  EXPECT_EQ(m.pids(), std::vector<pid_t>{cleanup.pid});
}

// The cgroup2 tree of this host: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified.
std::string cgroup2_root() {
  if (cg::detail::fs_type("/sys/fs/cgroup") == cg::detail::FsType::cgroup2) return "/sys/fs/cgroup";
  if (cg::detail::fs_type("/sys/fs/cgroup/unified") == cg::detail::FsType::cgroup2)
    return "/sys/fs/cgroup/unified";
  return "";
}

TEST(CgroupRealUnified, CreateFreezeKillDestroy) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
  const std::string root = cgroup2_root();
  if (root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  const std::string name = unique_name("v2");
  cg::CgroupfsV2 m(root, name);
  Cleanup cleanup;
  cleanup.manager = &m;
  m.create();
  ASSERT_GE(m.dir_fd(), 0);
  const std::string dir = root + name;
  if (!cg::detail::exists(dir + "/cgroup.freeze") || !cg::detail::exists(dir + "/cgroup.kill"))
    GTEST_SKIP() << "kernel lacks cgroup.freeze or cgroup.kill";

  cleanup.pid = fork_sleeper();
  ASSERT_GT(cleanup.pid, 0);
  const pid_t pid = cleanup.pid;
  m.add_process(pid);
  const std::string proc = slurp("/proc/" + std::to_string(pid) + "/cgroup");
  EXPECT_NE(proc.find("0::" + name + "\n"), std::string::npos) << proc;
  EXPECT_EQ(m.pids(), std::vector<pid_t>{pid});

  m.freeze();
  EXPECT_EQ(trimmed(dir + "/cgroup.freeze"), "1");
  EXPECT_NE(slurp(dir + "/cgroup.events").find("frozen 1"), std::string::npos);
  EXPECT_TRUE(m.is_frozen());
  m.thaw();
  EXPECT_FALSE(m.is_frozen());

  m.kill_all(SIGKILL);  // through cgroup.kill
  EXPECT_EQ(wait_signal(pid), SIGKILL);
  cleanup.pid = -1;
  m.destroy();
  cleanup.manager = nullptr;
  EXPECT_FALSE(cg::detail::exists(dir));
}

TEST(CgroupRealUnified, CloneIntoCgroupThroughDirFd) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
  const std::string root = cgroup2_root();
  if (root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  const std::string name = unique_name("clone");
  cg::CgroupfsV2 m(root, name);
  Cleanup cleanup;
  cleanup.manager = &m;
  m.create();

  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(m.dir_fd());
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG))
    GTEST_SKIP() << "kernel lacks clone3 CLONE_INTO_CGROUP";
  ASSERT_GE(pid, 0) << strerror(errno);
  if (pid == 0) {
    for (;;) ::pause();
  }
  cleanup.pid = static_cast<pid_t>(pid);
  EXPECT_EQ(m.pids(), std::vector<pid_t>{static_cast<pid_t>(pid)});
  EXPECT_NE(slurp("/proc/" + std::to_string(pid) + "/cgroup").find("0::" + name + "\n"),
            std::string::npos);
  m.destroy();  // kills the child itself
  EXPECT_EQ(wait_signal(static_cast<pid_t>(pid)), SIGKILL);
  cleanup.pid = -1;
  cleanup.manager = nullptr;
  EXPECT_FALSE(cg::detail::exists(root + name));
}

}  // namespace
