// checkpoint and restore through CRIU. As root: a container with a counter in
// memory, an open file, a pipe, child processes and a listening TCP socket (in
// its own network namespace: nothing touches the host's) is dumped and
// restored with its state intact, also with --leave-running, after pre-dumps,
// and into a new id from a copied image directory. As the unprivileged user
// both commands refuse, saying why, and leave nothing behind.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstring>
#include <regex>
#include <thread>

#include "fd_receiver.hpp"
#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

// The workload: the counter lives in a subshell's variable (memory), each
// value goes to /tmp/count (replaced whole), to fd 3 (an open append-only
// file: /tmp/ticks) and down a pipe to a second subshell that records it in
// /tmp/piped; busybox httpd listens on 127.0.0.1:8080 in the container's own
// network namespace.
constexpr const char* kWorkload =
    "mkdir -p /www && echo hello-from-httpd > /www/index.html; "
    "httpd -f -p 127.0.0.1:8080 -h /www & "
    "exec 3>>/tmp/ticks; "
    "i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; "
    "echo tick $i >&3; echo $i; sleep 0.1; done | "
    "while read v; do echo $v > /tmp/piped; done";

// The same for a dump whose process goes on running (--leave-running) and a restore onto the same
// rootfs, where CRIU refuses a file the dumped process had open that changed since (a writer
// caught between its open of /tmp/piped, truncating, and its write: "File tmp/piped has bad
// size 3 (expect 0)"), or that is gone (caught holding /tmp/count.new, which the original then
// renamed: "Can't open file tmp/count.new on restore"). Here each value is appended to
// /tmp/count (CRIU does not hold a write-only, append-only file to its size) and the pipe's
// reader holds no file.
constexpr const char* kAppendingWorkload =
    "mkdir -p /www && echo hello-from-httpd > /www/index.html; "
    "httpd -f -p 127.0.0.1:8080 -h /www & "
    "exec 3>>/tmp/ticks; "
    "i=0; while true; do i=$((i+1)); echo $i >> /tmp/count; "
    "echo tick $i >&3; echo $i; sleep 0.1; done | "
    "while read v; do :; done";

// The receiving end of --console-socket (as conmon): one connection, one
// message with the pty master.
class ConsoleReceiver {
 public:
  explicit ConsoleReceiver(std::string path) : listener_(std::move(path)) {}
  ~ConsoleReceiver() {
    if (master_ >= 0) ::close(master_);
  }
  const std::string& path() const { return listener_.path(); }
  // The master, or -1 when none came within 15 s.
  int receive() {
    urun_test::Received r = listener_.accept_and_receive(15s, 256);
    for (int fd : r.fds) {
      if (master_ < 0)
        master_ = fd;
      else
        ::close(fd);
    }
    return master_;
  }

 private:
  urun_test::FdListener listener_;
  int master_ = -1;
};

// The highest "tick N" read from the pty within the timeout once past `above`
// (reads until one is seen or time is up); `first` gets the first one read.
long read_ticks(int master, long above, long* first = nullptr,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  std::string text;
  long highest = -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  static const std::regex tick("tick ([0-9]+)\r?\n");
  while (std::chrono::steady_clock::now() < deadline && highest <= above) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    char buf[4096];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    for (std::sregex_iterator it(text.begin(), text.end(), tick), end; it != end; ++it) {
      long v = std::stol((*it)[1]);
      if (first && *first < 0) *first = v;
      highest = std::max(highest, v);
    }
  }
  return highest;
}

class CheckpointTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (is_runc()) GTEST_SKIP() << "urun's checkpoint tests (runc needs its own CRIU set-up)";
    if (rootless()) return;  // the refusal needs no CRIU
    Result v = rt().run({"--version"});
    if (v.out.find("+CRIU") == std::string::npos)
      GTEST_SKIP() << "no usable CRIU (scripts/install-deps --criu): " << v.out;
    Result check = run_as(identity(), {"criu", "check"}, dir());
    if (check.exit_code != 0 || check.out.find("Looks good") == std::string::npos)
      GTEST_SKIP() << "`criu check` fails on this kernel: " << check.describe();
  }

  Bundle workload_bundle(const char* workload = kWorkload) {
    Bundle b = make_bundle({.writable_rootfs = true});
    if (!b.has_namespace("network")) b.add_namespace("network");
    b.sh(workload);
    b.save();
    return b;
  }

  // The last whole line of the counter file (kAppendingWorkload appends; the others replace it).
  long count(const Bundle& b, const std::string& file = "tmp/count") {
    const std::string text = read_file(b.rootfs + "/" + file);
    // Whole lines only: a value being appended has no newline yet.
    const std::vector<std::string> lines = split_lines(text.substr(0, text.rfind('\n') + 1));
    const std::string last = lines.empty() ? "" : trim(lines.back());
    return last.empty() ? -1 : std::stol(last);
  }

  // Waits until the counter file passes `above`; returns the value seen.
  long wait_count_above(const Bundle& b, long above, const std::string& file = "tmp/count") {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    long v = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        v = count(b, file);
      } catch (const std::exception&) {
        v = -1;  // between the write and the rename
      }
      if (v > above) return v;
      std::this_thread::sleep_for(50ms);
    }
    return v;
  }

  std::string image(const std::string& name) { return dir() + "/" + name; }

  // The container is alive and whole: its listening socket answers, exec and
  // ps work, the counter goes on.
  void expect_workload_alive(const Bundle& b, const std::string& id) {
    EXPECT_EQ(rt().status(id), "running");
    Result get = rt().run({"exec", id, "wget", "-q", "-O-", "http://127.0.0.1:8080/"});
    EXPECT_EQ(get.exit_code, 0) << get.describe();
    EXPECT_NE(get.read_out().find("hello-from-httpd"), std::string::npos) << get.describe();
    Result ps = rt().run({"ps", "--format", "json", id});
    EXPECT_EQ(ps.exit_code, 0) << ps.describe();
    // sh, httpd, the two sides of the pipe, and a sleep now and then.
    EXPECT_GE(Json::parse(ps.out).size(), 4u) << ps.out;
    long now = count(b);
    EXPECT_GT(wait_count_above(b, now), now) << "the counter stopped";
  }

  // Restored from where it was: the counter continued past `at_dump` (it did
  // not start again), the open file got one "tick 1" only, the pipe works.
  void expect_continued(const Bundle& b, long at_dump) {
    long v = wait_count_above(b, at_dump);
    EXPECT_GT(v, at_dump);
    EXPECT_LT(v, at_dump + 40) << "the counter jumped: not the dumped process";
    EXPECT_GT(wait_count_above(b, at_dump, "tmp/piped"), at_dump) << "the pipe's reader";
    std::string ticks = read_file(b.rootfs + "/tmp/ticks");
    size_t first = ticks.find("tick 1\n");
    ASSERT_NE(first, std::string::npos);
    EXPECT_EQ(ticks.find("tick 1\n", first + 1), std::string::npos) << "started again";
    EXPECT_NE(ticks.find("tick " + std::to_string(at_dump + 1) + "\n"), std::string::npos);
  }

  void start_workload(const Bundle& b, const std::string& id) {
    ASSERT_RUN_OK(rt().run({"run", "--detach", "--bundle", b.dir, id}));
    ASSERT_GT(wait_count_above(b, 5), 5) << "the workload does not count";
  }

  // As the unprivileged user: a clear refusal, the container untouched, no
  // image directory, no state for a restored container.
  void expect_refusals(const Bundle& b) {
    ASSERT_RUN_OK(rt().run({"run", "--detach", "--bundle", b.dir, "c1"}));
    Result cp = rt().run({"checkpoint", "--image-path", image("img"), "c1"});
    EXPECT_NE(cp.exit_code, 0);
    EXPECT_EQ(cp.err_lines().size(), 1u) << cp.err;
    EXPECT_NE(cp.err.find("checkpoint needs root"), std::string::npos) << cp.err;
    EXPECT_FALSE(path_exists(image("img")));
    EXPECT_EQ(rt().status("c1"), "running");
    ASSERT_EQ(::mkdir(image("img").c_str(), 0755), 0);
    Result rs =
        rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("img"), "c2"});
    EXPECT_NE(rs.exit_code, 0);
    EXPECT_EQ(rs.err_lines().size(), 1u) << rs.err;
    EXPECT_NE(rs.err.find("restore needs root"), std::string::npos) << rs.err;
    EXPECT_EQ(state_entries(), std::vector<std::string>{"c1"});
    EXPECT_EQ(split_lines(host_sh("ls -A '" + image("img") + "'")).size(), 0u);
  }
};

TEST_P(CheckpointTest, DumpAndRestoreKeepState) {
  Bundle b = workload_bundle();
  if (rootless()) return expect_refusals(b);
  const std::string stopped = dir() + "/poststop-ran";
  b.config["hooks"]["poststop"] = {
      {{"path", "/bin/sh"}, {"args", {"sh", "-c", "touch " + stopped}}}};
  b.save();
  start_workload(b, "c1");
  ASSERT_RUN_OK(rt().run({"checkpoint", "--image-path", image("img"), "c1"}));
  EXPECT_EQ(rt().status("c1"), "stopped");
  long at_dump = count(b);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count(b), at_dump) << "still counting after the checkpoint";
  ASSERT_RUN_OK(rt().run({"delete", "c1"}));

  ASSERT_RUN_OK(rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("img"),
                          "--pid-file", dir() + "/pid", "c1"}));
  Json st = rt().state("c1");
  EXPECT_EQ(st.value("pid", 0), std::stoi(read_file(dir() + "/pid")));
  expect_continued(b, at_dump);
  expect_workload_alive(b, "c1");
  ASSERT_RUN_OK(rt().run({"kill", "c1", "KILL"}));
  EXPECT_EQ(rt().wait_status("c1", "stopped"), "stopped");
  ASSERT_RUN_OK(rt().run({"delete", "c1"}));
  EXPECT_TRUE(path_exists(stopped)) << "poststop hooks run on delete of a restored container";
  EXPECT_TRUE(state_entries().empty());
}

TEST_P(CheckpointTest, LeaveRunning) {
  Bundle b = workload_bundle(kAppendingWorkload);
  if (rootless()) return expect_refusals(b);
  start_workload(b, "c1");
  ASSERT_RUN_OK(rt().run({"checkpoint", "--leave-running", "--image-path", image("img"), "c1"}));
  long at_dump = count(b);
  expect_workload_alive(b, "c1");
  // Let the original run well past the dump, then restore the dumped one.
  long later = wait_count_above(b, at_dump + 30);
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c1"}));
  ASSERT_RUN_OK(
      rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("img"), "c1"}));
  std::this_thread::sleep_for(200ms);
  long restored = wait_count_above(b, 0);
  EXPECT_LT(restored, later) << "the restored counter starts from the dump, not from the end";
  EXPECT_GE(restored, at_dump - 2);
  expect_workload_alive(b, "c1");
}

TEST_P(CheckpointTest, PreDumpsThenFinalDump) {
  Bundle b = workload_bundle();
  if (rootless()) return expect_refusals(b);
  start_workload(b, "c1");
  Result absolute = rt().run(
      {"checkpoint", "--image-path", image("final"), "--parent-path", image("pre2"), "c1"});
  EXPECT_NE(absolute.exit_code, 0);
  EXPECT_NE(absolute.err.find("must be relative"), std::string::npos) << absolute.err;
  EXPECT_FALSE(path_exists(image("final")));
  if (run_as(identity(), {"criu", "check", "--feature", "mem_dirty_track"}, dir()).exit_code != 0) {
    // CRIU's pre-dump is its memory change tracking: without the kernel's soft-dirty bits it
    // cannot run, and urun says so before anything is made.
    Result r = rt().run({"checkpoint", "--pre-dump", "--image-path", image("pre1"), "c1"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_NE(r.err.find("soft-dirty"), std::string::npos) << r.err;
    EXPECT_FALSE(path_exists(image("pre1")));
    EXPECT_EQ(rt().status("c1"), "running");
    GTEST_SKIP() << "this kernel has no soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): pre-dumps "
                    "cannot run; only their refusal was checked";
  }
  ASSERT_RUN_OK(rt().run({"checkpoint", "--pre-dump", "--image-path", image("pre1"), "c1"}));
  EXPECT_EQ(rt().status("c1"), "running");
  ASSERT_RUN_OK(rt().run({"checkpoint", "--pre-dump", "--image-path", image("pre2"),
                          "--parent-path", "../pre1", "c1"}));
  ASSERT_RUN_OK(rt().run({"checkpoint", "--image-path", image("final"), "--work-path",
                          image("work"), "--parent-path", "../pre2", "c1"}));
  EXPECT_TRUE(path_exists(image("work") + "/dump.log")) << "--work-path made and used";
  long at_dump = count(b);
  ASSERT_RUN_OK(rt().run({"delete", "c1"}));
  ASSERT_RUN_OK(
      rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("final"), "c1"}));
  expect_continued(b, at_dump);
  expect_workload_alive(b, "c1");
}

TEST_P(CheckpointTest, RestoreIntoNewIdFromCopiedImages) {
  Bundle b = workload_bundle();
  if (rootless()) return expect_refusals(b);
  start_workload(b, "c1");
  ASSERT_RUN_OK(rt().run({"checkpoint", "--image-path", image("img"), "c1"}));
  long at_dump = count(b);
  ASSERT_RUN_OK(rt().run({"delete", "c1"}));
  host_sh("cp -a '" + image("img") + "' '" + image("copy") + "'");
  ASSERT_RUN_OK(rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("copy"),
                          "--manage-cgroups-mode", "soft", "c2"}));
  EXPECT_EQ(rt().list_ids(), std::vector<std::string>{"c2"});
  expect_continued(b, at_dump);
  expect_workload_alive(b, "c2");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c2"}));
  EXPECT_TRUE(wait_no_leftovers().empty());
}

TEST_P(CheckpointTest, FailuresLeaveNothingBehind) {
  Bundle b = workload_bundle();
  if (rootless()) return expect_refusals(b);
  // A restore from images that are not there: one line, no state, no cgroup.
  ASSERT_EQ(::mkdir(image("empty").c_str(), 0755), 0);
  Result r =
      rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("empty"), "c9"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("CRIU log"), std::string::npos) << r.err;
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(host_sh("ls -d /sys/fs/cgroup/*/urun/c9-* 2>/dev/null || true").empty());
  // A checkpoint of a container that is not running is refused before CRIU runs.
  Result c = rt().run({"checkpoint", "--image-path", image("img"), "nosuch"});
  EXPECT_NE(c.exit_code, 0);
  EXPECT_EQ(c.err_lines().size(), 1u) << c.err;
}

// A network namespace joined by path is external to the checkpoint: the restore puts the
// container back into the namespace the config names (an --inherit-fd), where its listening
// socket is again.
TEST_P(CheckpointTest, JoinedNetworkNamespaceStaysExternal) {
  Bundle b = workload_bundle();
  if (rootless()) return expect_refusals(b);
  const std::string netns = dir() + "/netns";
  // A namespace of the test's own, kept by a bind on a file in the test dir (TearDown unmounts it).
  host_sh("touch '" + netns + "' && unshare --net='" + netns + "' ip link set lo up");
  for (auto& ns : b.config["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = netns;
  b.save();
  start_workload(b, "c1");
  ASSERT_RUN_OK(rt().run({"checkpoint", "--image-path", image("img"), "c1"}));
  long at_dump = count(b);
  ASSERT_RUN_OK(rt().run({"delete", "c1"}));
  ASSERT_RUN_OK(
      rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("img"), "c1"}));
  expect_continued(b, at_dump);
  expect_workload_alive(b, "c1");
  struct stat st {};
  ASSERT_EQ(::stat(netns.c_str(), &st), 0);
  const std::string pid = std::to_string(rt().state("c1").value("pid", 0));
  char link[64] = {};
  ASSERT_GT(::readlink(("/proc/" + pid + "/ns/net").c_str(), link, sizeof link - 1), 0);
  EXPECT_EQ(std::string(link), "net:[" + std::to_string(st.st_ino) + "]");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c1"}));
}

// process.terminal: the pty's master is with the console socket's receiver. The checkpoint
// leaves it there (CRIU's orphan-pts-master); the restore sends the master of the new pty to
// the restore's --console-socket, and the shell goes on counting on it.
TEST_P(CheckpointTest, TerminalThroughConsoleSocket) {
  Bundle b = workload_bundle();
  if (rootless()) return expect_refusals(b);
  b.config["process"]["terminal"] = true;
  b.sh("i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done");
  b.save();
  long at_dump = -1;
  {
    ConsoleReceiver console(dir() + "/console1.sock");
    ASSERT_RUN_OK(
        rt().run({"run", "--detach", "--bundle", b.dir, "--console-socket", console.path(), "c1"}));
    int master = console.receive();
    ASSERT_GE(master, 0) << "no pty master from run";
    ASSERT_GT(read_ticks(master, 5), 5);
    ASSERT_RUN_OK(rt().run({"checkpoint", "--image-path", image("img"), "c1"}));
    EXPECT_EQ(rt().status("c1"), "stopped");
    // What the shell wrote before it was dumped (the pty keeps what was not read yet).
    at_dump = read_ticks(master, LONG_MAX, nullptr, std::chrono::milliseconds(500));
  }
  ASSERT_RUN_OK(rt().run({"delete", "c1"}));
  Result no_socket =
      rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("img"), "c1"});
  EXPECT_NE(no_socket.exit_code, 0);
  EXPECT_NE(no_socket.err.find("--console-socket"), std::string::npos) << no_socket.err;
  EXPECT_TRUE(state_entries().empty());

  ConsoleReceiver console(dir() + "/console2.sock");
  ASSERT_RUN_OK(rt().run({"restore", "--detach", "--bundle", b.dir, "--image-path", image("img"),
                          "--console-socket", console.path(), "c1"}));
  int master = console.receive();
  ASSERT_GE(master, 0) << "no pty master from restore";
  long first = -1;
  long highest = read_ticks(master, at_dump + 3, &first);
  EXPECT_GT(highest, at_dump + 3) << "the restored shell does not write to the new pty";
  EXPECT_GT(first, at_dump - 1) << "the counter started again: first tick " << first;
  EXPECT_EQ(rt().status("c1"), "running");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c1"}));
}

URUN_IT_INSTANTIATE(CheckpointTest);

}  // namespace
}  // namespace urun_it
