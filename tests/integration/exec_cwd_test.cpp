// The process's working directory never leaves the container (the CVE-2024-21626 class): not
// through a directory fd the caller leaked into the runtime or passed on purpose
// (/proc/self/fd/N), not through a symlink the container planted to such a path, not through
// `..`. Each attempt fails with one clear line and the process never runs; the marker file in
// a host directory stays unseen.
#include <unistd.h>

#include "harness.hpp"

namespace urun_it {
namespace {

constexpr const char* kMarker = "HOST_MARKER_cwd_escape";

class ExecCwd : public IntegrationTest {
 protected:
  // A host directory holding the marker, readable by the runtime's identity.
  std::string host_dir() {
    std::string d = make_host_dir("hostside");
    write_file(d + "/" + kMarker, "host\n");
    return d;
  }
  // The runtime run through sh with fd `fd` open on the directory `path`, as a caller that
  // leaked it (or passes it with --preserve-fds) would: args follow `--root STATE`.
  Result with_dir_fd(int fd, const std::string& path, const std::vector<std::string>& args) {
    std::string cmd = "exec " + std::to_string(fd) + "<'" + path + "'; exec '" + world().runtime() +
                      "' --root '" + rt().state_root() + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    return run_as(identity(), {"sh", "-c", cmd}, dir() + "/io");
  }
  void start_sleeper(const std::string& id = "c1") {
    Bundle b = make_bundle();
    b.set_args({"sleep", "1000"});
    b.save();
    ASSERT_RUN_OK(create(b, id));
    ASSERT_RUN_OK(rt().run({"start", id}));
  }
  // What the process would show if it got to run: its cwd and the directories above it.
  static std::vector<std::string> look_around(const std::string& id) {
    return {id, "sh", "-c", "pwd; ls -a; ls -a ..; ls -a ../../..; cat ./HOST_MARKER*"};
  }
  // exec refused in one line that names `what`; nothing of the host was shown.
  void expect_refused(const Result& r, const std::string& what) {
    EXPECT_NE(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.exit_code, -1) << "timed out\n" << r.describe();
    for (const char* host_name : {kMarker, "hostside"})
      EXPECT_EQ(r.out.find(host_name), std::string::npos) << "a host directory was listed\n"
                                                          << r.describe();
    ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
    if (!is_runc()) {
      EXPECT_NE(r.err.find(what), std::string::npos) << r.describe();
      EXPECT_NE(r.err.find("exec `c1`"), std::string::npos) << r.describe();
    }
    EXPECT_EQ(rt().status("c1"), "running");
  }
};

TEST_P(ExecCwd, LeakedDirectoryFdIsNoWayOut) {
  const std::string host = host_dir();
  start_sleeper();
  std::vector<std::string> args = {"exec", "--cwd", "/proc/self/fd/7"};
  for (const auto& a : look_around("c1")) args.push_back(a);
  expect_refused(with_dir_fd(7, host, args), "/proc/self/fd/7");
  // The same with `..` after the link, the exploit's usual form: from the host directory's
  // parent, `ls` would show "hostside".
  args[2] = "/proc/self/fd/7/..";
  expect_refused(with_dir_fd(7, host, args), "/proc/self/fd/7/..");
}

// A preserved fd is the process's to use, not a way for its cwd to leave the container.
TEST_P(ExecCwd, PreservedDirectoryFdIsNoWayOut) {
  const std::string host = host_dir();
  start_sleeper();
  std::vector<std::string> args = {"exec", "--preserve-fds", "1", "--cwd", "/proc/self/fd/3"};
  for (const auto& a : look_around("c1")) args.push_back(a);
  expect_refused(with_dir_fd(3, host, args), "/proc/self/fd/3");
}

// The container plants symlinks to the fds and asks for them by a harmless-looking name.
TEST_P(ExecCwd, PlantedSymlinkToAnFdIsNoWayOut) {
  const std::string host = host_dir();
  start_sleeper();
  ASSERT_RUN_OK(rt().run({"exec", "c1", "sh", "-c",
                          "ln -s /proc/self/fd/7 /dev/shm/w && ln -s /proc/self/fd/3 /dev/shm/p"}));
  std::vector<std::string> leaked = {"exec", "--cwd", "/dev/shm/w"};
  std::vector<std::string> kept = {"exec", "--preserve-fds", "1", "--cwd", "/dev/shm/p"};
  for (const auto& a : look_around("c1")) {
    leaked.push_back(a);
    kept.push_back(a);
  }
  expect_refused(with_dir_fd(7, host, leaked), "/dev/shm/w");
  expect_refused(with_dir_fd(3, host, kept), "/dev/shm/p");
}

TEST_P(ExecCwd, DotDotChainsStayInside) {
  start_sleeper();
  // Spelled out, `..` above the root is refused before anything runs.
  Result r = rt().run({"exec", "--cwd", "/../../../tmp", "c1", "pwd"});
  if (!is_runc()) {
    EXPECT_NE(r.exit_code, 0) << r.describe();
    ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
    EXPECT_NE(r.err.find("/../../../tmp"), std::string::npos) << r.describe();
    EXPECT_NE(r.err.find("`..`"), std::string::npos) << r.describe();
  }
  // Through a symlink the container planted, `..` stops at the container's root.
  ASSERT_RUN_OK(
      rt().run({"exec", "c1", "ln", "-s", "../../../../../../../../../../../..", "/dev/shm/up"}));
  Result up = rt().run({"exec", "--cwd", "/dev/shm/up", "c1", "sh", "-c",
                        "pwd; ls -a; echo --; cd ../../..; ls -a; echo --; ls -a /"});
  ASSERT_EQ(up.exit_code, 0) << up.describe();
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t sep; (sep = up.out.find("--\n", start)) != std::string::npos; start = sep + 3)
    parts.push_back(up.out.substr(start, sep - start));
  parts.push_back(up.out.substr(start));
  ASSERT_EQ(parts.size(), 3u) << up.out;
  EXPECT_EQ(parts[0], "/\n" + parts[2]) << "the cwd is the container's root";
  EXPECT_EQ(parts[1], parts[2]) << "`..` from the root stays at the container's root";
}

// The init's cwd follows the same rules: a preserved directory fd or a symlink to one in the
// image fails the run.
TEST_P(ExecCwd, InitCwdThroughAPreservedFdFailsTheRun) {
  const std::string host = host_dir();
  Bundle b = make_bundle({.writable_rootfs = true});
  ASSERT_EQ(::symlink("/proc/self/fd/3", (b.rootfs + "/w").c_str()), 0);
  ::lchown((b.rootfs + "/w").c_str(), identity().uid, identity().gid);
  b.sh("pwd; ls -a; ls -a ../../..; cat ./HOST_MARKER*");
  for (const std::string cwd : {"/proc/self/fd/3", "/w"}) {
    SCOPED_TRACE(cwd);
    b.config["process"]["cwd"] = cwd;
    b.save();
    Result r = with_dir_fd(3, host, {"run", "--preserve-fds", "1", "--bundle", b.dir, "i1"});
    EXPECT_EQ(r.out.find(kMarker), std::string::npos) << "the host directory was listed\n"
                                                      << r.describe();
    expect_clean_failure(r, cwd);
  }
}

URUN_IT_INSTANTIATE(ExecCwd);

}  // namespace
}  // namespace urun_it
