// Broken state: a container whose state.json is truncated, empty, garbage, a
// directory, a symlink or a fifo can still be removed with `delete --force`, which kills what
// can be proven to be the container's (its cgroup; its init by pid and start time) and removes
// the cgroup and the state dir; `list` shows the good containers with one warning per bad one;
// `state` of a bad one says what is wrong. Nothing that cannot be proven to be the container's
// is touched.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;
namespace stdfs = std::filesystem;

enum class Breakage { truncated, empty, garbage, directory, symlink, fifo, other_record };

class BrokenState : public IntegrationTest {
 protected:
  // Unique per test process: the cgroups are named after the ids, and clean-up must never touch
  // another test's.
  std::string unique_id(const std::string& stem) const {
    return stem + "-" + std::to_string(::getpid());
  }

  void TearDown() override {
    for (const auto& id : ids_) {
      host_sh("for d in $(find /sys/fs/cgroup -maxdepth 4 -depth -type d -name '" + id +
              "*' 2>/dev/null); do for p in $(cat $d/cgroup.procs 2>/dev/null); do "
              "kill -9 $p 2>/dev/null; done; sleep 0.1; rmdir $d 2>/dev/null; done; true");
    }
    IntegrationTest::TearDown();
  }

  std::string marker(const std::string& id) const { return "URUN_IT_MARK=" + dir() + "/" + id; }

  // Creates and starts a container whose processes (an init and a child) carry a marker of
  // their own in the environment.
  void start_container(const std::string& id) {
    ids_.push_back(id);
    Bundle b = make_bundle(BundleOptions{.name = "bundle-" + id});
    b.add_env(marker(id));
    b.sh("sleep 1000 & exec sleep 1001");
    b.save();
    ASSERT_RUN_OK(create(b, id));
    ASSERT_RUN_OK(rt().run({"start", id}));
    ASSERT_EQ(rt().wait_status(id, "running"), "running");
    // Both processes exist before the record is broken.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (marked_processes(id).size() < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    ASSERT_EQ(marked_processes(id).size(), 2u);
  }

  // Live processes whose environment holds the container's marker.
  std::vector<pid_t> marked_processes(const std::string& id) const {
    std::vector<pid_t> out;
    const std::string mark = marker(id);
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator("/proc", ec)) {
      std::string name = e.path().filename().string();
      if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
      pid_t pid = std::stoi(name);
      if (!pid_alive(pid)) continue;
      std::string env = read_file("/proc/" + name + "/environ");
      for (size_t pos = 0; pos < env.size();) {
        size_t end = env.find('\0', pos);
        if (end == std::string::npos) end = env.size();
        if (env.compare(pos, end - pos, mark) == 0) out.push_back(pid);
        pos = end + 1;
      }
    }
    return out;
  }

  std::vector<pid_t> wait_marked_gone(const std::string& id) const {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      auto left = marked_processes(id);
      if (left.empty() || std::chrono::steady_clock::now() > deadline) return left;
      std::this_thread::sleep_for(10ms);
    }
  }

  std::string cgroups_named(const std::string& id) {
    return host_sh("find /sys/fs/cgroup -maxdepth 4 -type d -name '" + id +
                   "*' 2>/dev/null || true");
  }

  std::string state_file(const std::string& id) const {
    return dir() + "/state/" + id + "/state.json";
  }

  // Breaks the container's record the way a crash, a full disk or a stray tool would.
  void break_record(const std::string& id, Breakage how, const std::string& other_id) {
    const std::string path = state_file(id);
    const std::string text = read_file(path);
    ASSERT_FALSE(text.empty());
    const uid_t uid = identity().uid;
    const gid_t gid = identity().gid;
    switch (how) {
      case Breakage::truncated:
        write_file(path, text.substr(0, text.size() / 2), 0600);
        break;
      case Breakage::empty:
        write_file(path, "", 0600);
        break;
      case Breakage::garbage:
        write_file(path, std::string("\x7f\x45LF{{{ not a record \x01\x02"), 0600);
        break;
      case Breakage::directory:
        ASSERT_EQ(::unlink(path.c_str()), 0);
        ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
        ASSERT_EQ(::chown(path.c_str(), uid, gid), 0);
        break;
      case Breakage::symlink: {
        // A symlink to a whole, valid copy of the record: it must still not be followed.
        const std::string copy = dir() + "/record-copy.json";
        write_file(copy, text, 0644);
        ASSERT_EQ(::unlink(path.c_str()), 0);
        ASSERT_EQ(::symlink(copy.c_str(), path.c_str()), 0);
        ASSERT_EQ(::lchown(path.c_str(), uid, gid), 0);
        break;
      }
      case Breakage::fifo:
        ASSERT_EQ(::unlink(path.c_str()), 0);
        ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
        ASSERT_EQ(::chown(path.c_str(), uid, gid), 0);
        break;
      case Breakage::other_record:
        // A whole record, but another container's: acting on it would kill that one.
        write_file(path, read_file(state_file(other_id)), 0600);
        break;
    }
  }

  // The whole story for one kind of breakage, with a good container beside the bad one.
  void check_recovery(Breakage how) {
    const std::string good = unique_id("good");
    const std::string bad = unique_id("bad");
    ASSERT_NO_FATAL_FAILURE(start_container(good));
    ASSERT_NO_FATAL_FAILURE(start_container(bad));
    const bool has_cgroup = cgroups_named(bad) != "";
    if (!rootless()) {
      ASSERT_TRUE(has_cgroup) << "a root container has a cgroup here";
    }
    ASSERT_NO_FATAL_FAILURE(break_record(bad, how, good));

    // `state` says what is wrong, in one line naming the container and the file.
    Result st = rt().run({"state", bad});
    EXPECT_NE(st.exit_code, 0) << st.describe();
    EXPECT_NE(st.exit_code, -1) << "timed out\n" << st.describe();
    ASSERT_EQ(st.err_lines().size(), 1u) << st.describe();
    EXPECT_NE(st.err_lines()[0].find(bad), std::string::npos) << st.describe();
    EXPECT_NE(st.err_lines()[0].find("state.json"), std::string::npos) << st.describe();

    // `list` in every format: the good container, one warning for the bad one, exit 0.
    for (std::vector<std::string> args :
         {std::vector<std::string>{"list"}, {"list", "-q"}, {"list", "--format", "json"}}) {
      Result l = rt().run(args);
      EXPECT_EQ(l.exit_code, 0) << l.describe();
      EXPECT_NE(l.out.find(good), std::string::npos) << l.describe();
      EXPECT_EQ(l.out.find(bad), std::string::npos) << l.describe();
      ASSERT_EQ(l.err_lines().size(), 1u) << l.describe();
      EXPECT_NE(l.err_lines()[0].find(bad), std::string::npos) << l.describe();
      if (args.size() == 3) {
        Json arr = Json::parse(l.out, nullptr, false);
        ASSERT_TRUE(arr.is_array()) << l.describe();
        EXPECT_EQ(arr.size(), 1u) << l.describe();
      }
    }

    // Without --force nothing is removed: the processes may be running.
    Result plain = rt().run({"delete", bad});
    EXPECT_NE(plain.exit_code, 0) << plain.describe();
    EXPECT_NE(plain.err, "") << plain.describe();
    EXPECT_TRUE(path_exists(dir() + "/state/" + bad));

    // `delete --force` kills the container's processes, removes its cgroup and its state dir.
    Result del = rt().run({"delete", "--force", bad});
    EXPECT_EQ(del.exit_code, 0) << del.describe();
    EXPECT_TRUE(wait_marked_gone(bad).empty()) << "processes of the broken container survived\n"
                                               << del.describe();
    EXPECT_EQ(cgroups_named(bad), "") << "cgroup left behind\n" << del.describe();
    EXPECT_FALSE(path_exists(dir() + "/state/" + bad)) << "state dir left behind";

    // The good container was not touched.
    EXPECT_EQ(marked_processes(good).size(), 2u) << "the good container was hurt";
    EXPECT_EQ(rt().status(good), "running");
    ASSERT_RUN_OK(rt().run({"delete", "--force", good}));
    EXPECT_TRUE(wait_marked_gone(good).empty());
    EXPECT_TRUE(state_entries().empty());
  }

  std::vector<std::string> ids_;
};

TEST_P(BrokenState, TruncatedRecord) { check_recovery(Breakage::truncated); }
TEST_P(BrokenState, EmptyRecord) { check_recovery(Breakage::empty); }
TEST_P(BrokenState, GarbageRecord) { check_recovery(Breakage::garbage); }
TEST_P(BrokenState, RecordIsADirectory) { check_recovery(Breakage::directory); }
TEST_P(BrokenState, RecordIsASymlink) { check_recovery(Breakage::symlink); }
TEST_P(BrokenState, RecordIsAFifo) { check_recovery(Breakage::fifo); }
// A copied record names another container: following it would kill the good one.
TEST_P(BrokenState, RecordOfAnotherContainer) { check_recovery(Breakage::other_record); }

// A state dir with nothing that proves which processes were the container's (the record is
// garbage, the identity names a live process whose start time differs: a reused pid):
// `delete --force` removes the dir, says what it could not do, and kills nothing.
TEST_P(BrokenState, UnprovenPidIsNotKilled) {
  if (is_runc()) GTEST_SKIP() << "urun's own state layout";
  const std::string id = unique_id("unproven");
  Proc bystander = spawn_as(identity(), {"/bin/sleep", "1000"}, dir() + "/io", RunOptions{});
  ASSERT_GT(bystander.pid(), 0);
  const std::string cdir = dir() + "/state/" + id;
  ASSERT_EQ(::mkdir(cdir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(cdir.c_str(), identity().uid, identity().gid), 0);
  write_file(cdir + "/state.json", "{\"id\": \"" + id + "\", \"status\": \"runn", 0600);
  // The record create writes first, naming the init by pid and start time (see state/store.hpp).
  Json identity_record = {{"ociVersion", "1.3.0"}, {"id", id},
                          {"status", "creating"},  {"pid", bystander.pid()},
                          {"pidStartTime", 1},     {"cgroupManager", "disabled"}};
  write_file(cdir + "/identity.json", identity_record.dump(), 0600);
  for (const char* f : {"/state.json", "/identity.json"})
    ASSERT_EQ(::chown((cdir + f).c_str(), identity().uid, identity().gid), 0);

  Result del = rt().run({"delete", "--force", id});
  EXPECT_EQ(del.exit_code, 0) << del.describe();
  EXPECT_FALSE(path_exists(cdir)) << del.describe();
  EXPECT_NE(del.err.find("left alone"), std::string::npos)
      << "delete should say what it did not kill\n"
      << del.describe();
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(bystander.running()) << "a process not proven to be the container's was killed";
  bystander.kill_group(SIGKILL);
  bystander.wait(5s);
}

URUN_IT_INSTANTIATE(BrokenState);

}  // namespace
}  // namespace urun_it
