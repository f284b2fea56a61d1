// cgroup v2 kernel interfaces for real, as root, on this machine's cgroup2 tree (at
// /sys/fs/cgroup or /sys/fs/cgroup/unified; device programs attach to any cgroup2
// directory, controllers or not): the device program decides what a process in the
// cgroup may open, `update` swaps it, and clone_child starts a process straight in the
// cgroup. Each test uses its own cgroup and removes it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "cgroups/bpf/bpf_attach.hpp"
#include "cgroups/bpf/bpf_device_program.hpp"
#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "cgroups/cgroupfs/cgroupfs_v2.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "files.hpp"
#include "runtime/clone_child.hpp"

namespace {

using urun_test::slurp;

namespace cg = urun::cgroups;
using nlohmann::json;

std::string cgroup2_root() {
  if (cg::detail::fs_type("/sys/fs/cgroup") == cg::detail::FsType::cgroup2) return "/sys/fs/cgroup";
  if (cg::detail::fs_type("/sys/fs/cgroup/unified") == cg::detail::FsType::cgroup2)
    return "/sys/fs/cgroup/unified";
  return "";
}

std::string unique_name(const char* what) {
  static int n = 0;
  return std::string("/urun-bpftest-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++n);
}

// Destroys the cgroup (killing what is left in it) whatever the test's outcome.
struct CgroupCleanup {
  cg::CgroupfsV2* manager = nullptr;
  ~CgroupCleanup() {
    if (!manager) return;
    try {
      manager->destroy();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << e.what();
    }
  }
};

// Opens path with flags from a child process placed in the cgroup; 0 or the errno.
int open_errno_in(cg::CgroupfsV2& m, const char* path, int flags) {
  int go[2], result[2];
  if (::pipe2(go, O_CLOEXEC) < 0 || ::pipe2(result, O_CLOEXEC) < 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(1);
    int fd = ::open(path, flags | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    (void)!::write(result[1], &err, sizeof err);
    ::_exit(0);
  }
  ::close(go[0]);
  ::close(result[1]);
  int err = -1;
  try {
    m.add_process(pid);
    if (::write(go[1], "x", 1) == 1 && ::read(result[0], &err, sizeof err) != sizeof err) err = -1;
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
    ::kill(pid, SIGKILL);
  }
  ::close(go[1]);
  ::close(result[0]);
  ::waitpid(pid, nullptr, 0);
  return err;
}

cg::Resources devices(const json& rules) { return cg::parse_resources(json{{"devices", rules}}); }

const json kDenyAll = {{"allow", false}, {"access", "rwm"}};
json allow_char(int major, int minor, const char* access = "rwm") {
  return {{"allow", true}, {"type", "c"}, {"major", major}, {"minor", minor}, {"access", access}};
}

TEST(CgroupBpfReal, DeviceProgramDecidesAndUpdateReplacesIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs and create cgroups";
  const std::string root = cgroup2_root();
  if (root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  cg::CgroupfsV2 m(root, unique_name("dev"));
  CgroupCleanup cleanup{&m};
  m.create();
  urun::UniqueFd dir(::open(m.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir);
  EXPECT_TRUE(cg::attached_device_programs(dir.get()).empty());
  // Sanity: without a program both devices open.
  ASSERT_EQ(open_errno_in(m, "/dev/zero", O_RDONLY), 0);

  // deny all, allow c 1:3 rwm (/dev/null)
  m.apply(devices(json::array({kDenyAll, allow_char(1, 3)})));
  const auto first = cg::attached_device_programs(dir.get());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(open_errno_in(m, "/dev/null", O_RDWR), 0);
  EXPECT_EQ(open_errno_in(m, "/dev/zero", O_RDONLY), EPERM);

  // update: now only /dev/zero, read-only. The old program is gone, not stacked.
  m.apply(devices(json::array({kDenyAll, allow_char(1, 5, "r")})));
  const auto second = cg::attached_device_programs(dir.get());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second, first);
  EXPECT_EQ(open_errno_in(m, "/dev/zero", O_RDONLY), 0);
  EXPECT_EQ(open_errno_in(m, "/dev/zero", O_WRONLY), EPERM);
  EXPECT_EQ(open_errno_in(m, "/dev/null", O_RDONLY), EPERM);

  // An update without devices leaves the program alone.
  m.apply(cg::parse_resources(json::object()));
  EXPECT_EQ(cg::attached_device_programs(dir.get()), second);

  dir.reset();
  m.destroy();
  cleanup.manager = nullptr;
  EXPECT_FALSE(cg::detail::exists(m.dir()));
}

TEST(CgroupBpfReal, VerifierAcceptsEveryRuleShape) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs";
  // The default rules of a container plus wildcards and partial access, the shapes the
  // generator produces; the kernel's verifier is the judge of the bytecode.
  std::vector<cg::DeviceRule> rules =
      cg::parse_resources(
          json{{"devices",
                json::array({kDenyAll,
                             allow_char(1, 3),
                             allow_char(1, 5, "r"),
                             {{"allow", true}, {"type", "c"}, {"major", 136}, {"access", "rwm"}},
                             {{"allow", false}, {"type", "b"}, {"access", "w"}},
                             {{"allow", true}, {"type", "a"}, {"major", 10}, {"access", "m"}},
                             {{"allow", false}, {"type", "c"}, {"minor", 3}, {"access", "m"}}})}})
          .devices;
  EXPECT_NO_THROW(cg::load_device_program(cg::device_program(rules)));
  EXPECT_NO_THROW(cg::load_device_program(cg::device_program({})));
  try {
    cg::load_device_program({});  // no instructions: refused, and the error says so
    ADD_FAILURE() << "an empty program loaded";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("load device program"), std::string::npos) << e.what();
  }
}

int child_entry(void*) {
  // Stays until killed; reports nothing: the parent reads /proc/<pid>/cgroup.
  for (;;) ::pause();
}

TEST(CgroupBpfReal, CloneChildStartsInTheCgroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
  const std::string root = cgroup2_root();
  if (root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  const std::string name = unique_name("clone");
  cg::CgroupfsV2 m(root, name);
  CgroupCleanup cleanup{&m};
  m.create();
  ASSERT_GE(m.dir_fd(), 0);

  urun::runtime::ClonedChild child =
      urun::runtime::clone_child(child_entry, nullptr, 0, m.dir_fd());
  ASSERT_GT(child.pid, 0);
  if (!child.in_cgroup) {
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
    GTEST_SKIP() << "kernel lacks clone3 CLONE_INTO_CGROUP";
  }
  const std::string proc = slurp("/proc/" + std::to_string(child.pid) + "/cgroup");
  EXPECT_NE(proc.find("0::" + name + "\n"), std::string::npos) << proc;
  EXPECT_EQ(m.pids(), std::vector<pid_t>{child.pid});
  m.destroy();  // kills the child
  int status = 0;
  EXPECT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  cleanup.manager = nullptr;

  // Without a cgroup fd it is a plain clone, and the child stays in ours.
  urun::runtime::ClonedChild plain = urun::runtime::clone_child(child_entry, nullptr, 0, -1);
  ASSERT_GT(plain.pid, 0);
  EXPECT_FALSE(plain.in_cgroup);
  EXPECT_EQ(slurp("/proc/" + std::to_string(plain.pid) + "/cgroup"), slurp("/proc/self/cgroup"));
  ::kill(plain.pid, SIGKILL);
  ::waitpid(plain.pid, nullptr, 0);
}

}  // namespace
