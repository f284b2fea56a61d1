#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "state/store.hpp"
#include "temp_dir.hpp"

namespace {

using urun_test::TempDir;

namespace stdfs = std::filesystem;
using urun::Error;
using urun::UniqueFd;
using urun::state::ContainerDir;
using urun::state::Record;
using urun::state::StateStore;

// A fresh directory per test, removed afterwards.

// The message of the Error that f throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f, int* code = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "";
}

struct Pipe {
  UniqueFd r, w;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw std::runtime_error("pipe2 failed");
    r = UniqueFd(fds[0]);
    w = UniqueFd(fds[1]);
  }
};

// True when fd becomes readable within timeout_ms.
bool readable_within(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ---- validate_id --------------------------------------------------------

TEST(StateId, AcceptsUsualIds) {
  for (const char* id : {"a", "foo", "my-container_1.2+x", "0123456789abcdef", "-x", "a..b",
                         "ABC-def", "k8s.io_pod+1"}) {
    EXPECT_NO_THROW(urun::state::validate_id(id)) << id;
  }
  EXPECT_NO_THROW(urun::state::validate_id(std::string(255, 'x')));
}

// crun 1.28's rule (letters, digits, _ + . -, no leading dot) and its messages, word for word.
TEST(StateId, RejectsAsCrunDoesWithItsMessages) {
  int code = 0;
  EXPECT_EQ(error_of([] { urun::state::validate_id(""); }, &code), "empty container ID");
  EXPECT_EQ(code, EINVAL);
  EXPECT_EQ(error_of([] { urun::state::validate_id(".hidden"); }),
            "invalid container ID `.hidden`");
  EXPECT_EQ(error_of([] { urun::state::validate_id("."); }), "invalid container ID `.`");
  EXPECT_EQ(error_of([] { urun::state::validate_id(".."); }), "invalid container ID `..`");
  EXPECT_EQ(error_of([] { urun::state::validate_id(".cache"); }), "invalid container ID `.cache`");
  EXPECT_EQ(error_of([] { urun::state::validate_id("a/b"); }),
            "invalid character `/` in the container ID `a/b`");
  EXPECT_EQ(error_of([] { urun::state::validate_id("../x"); }), "invalid container ID `../x`");
  EXPECT_EQ(error_of([] { urun::state::validate_id("x/../y"); }),
            "invalid character `/` in the container ID `x/../y`");
  for (const char* id : {"a:b", "a@b", "a b", "a*", "a=b", "a,b", "a~b", "a%b"})
    EXPECT_NE(error_of([&] { urun::state::validate_id(id); }).find("invalid character"),
              std::string::npos)
        << id;
}

TEST(StateId, LongIdIsRejectedAndTruncatedInMessage) {
  std::string id(300, 'a');
  std::string msg = error_of([&] { urun::state::validate_id(id); });
  EXPECT_NE(msg.find("longer than 255 bytes"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(std::string(100, 'a')), std::string::npos) << "whole id dumped: " << msg;
  EXPECT_NE(msg.find(std::string(64, 'a') + "..."), std::string::npos) << msg;
  EXPECT_NE(error_of([] { urun::state::validate_id(std::string(256, 'b')); }), "");
}

TEST(StateId, RejectsControlAndNonAsciiWithoutEchoingThem) {
  // The control bytes are escaped in the message, not echoed to the terminal.
  EXPECT_EQ(error_of([] { urun::state::validate_id("x\n\x1b[31m"); }),
            "invalid character `\\x0a` in the container ID `x\\x0a\\x1b[31m`");
  EXPECT_NE(error_of([] { urun::state::validate_id("tab\there"); }), "");
  EXPECT_NE(error_of([] { urun::state::validate_id("del\x7f"); }), "");
  EXPECT_NE(error_of([] { urun::state::validate_id("caf\xc3\xa9"); }), "");
  EXPECT_NE(error_of([] { urun::state::validate_id(std::string("nul\0x", 5)); }), "");
}

// ---- default_root -------------------------------------------------------

TEST(StateDefaultRoot, RootUsesRunUrunEvenWithXdg) {
  EXPECT_EQ(urun::state::default_root(0, "/run/user/0"), "/run/urun");
  EXPECT_EQ(urun::state::default_root(0, nullptr), "/run/urun");
  // Root in a user namespace (rootless Podman's) uses the XDG_RUNTIME_DIR it is handed.
  EXPECT_EQ(urun::state::default_root(0, "/run/user/1001", "/run/user", false),
            "/run/user/1001/urun");
  EXPECT_EQ(urun::state::default_root(0, nullptr, "/run/user", false), "/run/urun");
}

TEST(StateDefaultRoot, NonRootUsesXdgRuntimeDir) {
  EXPECT_EQ(urun::state::default_root(1000, "/run/user/1000"), "/run/user/1000/urun");
  EXPECT_EQ(urun::state::default_root(1000, "/tmp/xdg", "/nonexistent"), "/tmp/xdg/urun");
}

TEST(StateDefaultRoot, NonRootFallsBackToOwnedRunUserDir) {
  TempDir base;
  // As root, hand the directory to another uid so the ownership check still
  // has something to compare.
  uid_t user = ::geteuid() == 0 ? 4242 : ::geteuid();
  std::string dir = base.path() + "/" + std::to_string(user);
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(dir.c_str(), user, static_cast<gid_t>(-1)), 0);
  }
  EXPECT_EQ(urun::state::default_root(user, nullptr, base.path()), dir + "/urun");
  // A relative or empty XDG_RUNTIME_DIR is invalid per the XDG spec: ignored.
  EXPECT_EQ(urun::state::default_root(user, "relative/dir", base.path()), dir + "/urun");
  EXPECT_EQ(urun::state::default_root(user, "", base.path()), dir + "/urun");
}

TEST(StateDefaultRoot, NonRootWithoutUsableDirFails) {
  TempDir base;
  const std::string want = "cannot choose a state directory: set XDG_RUNTIME_DIR or pass --root";
  // Missing /run/user/<uid>.
  EXPECT_EQ(error_of([&] { urun::state::default_root(4242, nullptr, base.path()); }), want);
  // Present but owned by someone else (we own it, the asked-for uid does not).
  uid_t other = ::geteuid() + 1;
  std::string theirs = base.path() + "/" + std::to_string(other);
  ASSERT_EQ(::mkdir(theirs.c_str(), 0700), 0);
  EXPECT_EQ(error_of([&] { urun::state::default_root(other, nullptr, base.path()); }), want);
  // Present but a file.
  uid_t third = ::geteuid() + 2;
  urun::fs::write_file(base.path() + "/" + std::to_string(third), "");
  EXPECT_EQ(error_of([&] { urun::state::default_root(third, nullptr, base.path()); }), want);
}

TEST(StateDefaultRoot, UsesEnvironment) {
  const char* saved = std::getenv("XDG_RUNTIME_DIR");
  std::string saved_value = saved ? saved : "";
  ::setenv("XDG_RUNTIME_DIR", "/some/where", 1);
  std::string got = urun::state::default_root();
  if (saved)
    ::setenv("XDG_RUNTIME_DIR", saved_value.c_str(), 1);
  else
    ::unsetenv("XDG_RUNTIME_DIR");
  EXPECT_EQ(got, ::geteuid() == 0 ? "/run/urun" : "/some/where/urun");
}

// ---- StateStore ---------------------------------------------------------

TEST(StateStore, CreatesMissingRootWithMode0700) {
  TempDir tmp;
  std::string root = tmp.path() + "/a/b/urun";
  StateStore store(root);
  struct stat st {};
  ASSERT_EQ(::stat(root.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(store.root(), root);
}

TEST(StateStore, KeepsModeOfExistingRootAndRejectsFile) {
  TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0711), 0);
  StateStore store(tmp.path());
  struct stat st {};
  ASSERT_EQ(::stat(tmp.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);

  std::string file = tmp.path() + "/file";
  urun::fs::write_file(file, "x");
  int code = 0;
  std::string msg = error_of([&] { StateStore s(file); }, &code);
  EXPECT_NE(msg.find("`" + file + "`"), std::string::npos) << msg;
  EXPECT_EQ(code, ENOTDIR);
}

TEST(StateStore, CreateOpenListRemove) {
  TempDir tmp;
  StateStore store(tmp.path());
  EXPECT_TRUE(store.list_ids().empty());
  {
    ContainerDir c = store.create("zeta");
    EXPECT_EQ(c.id(), "zeta");
    EXPECT_EQ(c.path(), tmp.path() + "/zeta");
    EXPECT_FALSE(c.has_record());
    struct stat st {};
    ASSERT_EQ(::stat(c.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
  }
  store.create("alpha");
  store.create("mid.1");
  // Entries that are not containers are skipped.
  urun::fs::write_file(tmp.path() + "/not-a-dir", "");
  ASSERT_EQ(::mkdir((tmp.path() + "/bad name").c_str(), 0700), 0);
  ASSERT_EQ(::symlink("alpha", (tmp.path() + "/link").c_str()), 0);
  EXPECT_EQ(store.list_ids(), (std::vector<std::string>{"alpha", "mid.1", "zeta"}));
  EXPECT_TRUE(store.exists("alpha"));
  EXPECT_FALSE(store.exists("nope"));
  EXPECT_FALSE(store.exists("link"));
  EXPECT_FALSE(store.exists("../x"));

  {
    ContainerDir c = store.open("mid.1");
    Record r;
    r.id = "mid.1";
    r.status = "created";
    c.write(r);
    urun::fs::write_file(c.path() + "/extra", "keep me out");
    ASSERT_EQ(::mkdir((c.path() + "/sub").c_str(), 0700), 0);
    c.remove();
  }
  EXPECT_FALSE(stdfs::exists(tmp.path() + "/mid.1"));
  EXPECT_FALSE(store.exists("mid.1"));
  EXPECT_EQ(store.list_ids(), (std::vector<std::string>{"alpha", "zeta"}));
}

TEST(StateStore, DuplicateCreateSaysAlreadyExists) {
  TempDir tmp;
  StateStore store(tmp.path());
  ContainerDir first = store.create("dup");
  int code = 0;
  EXPECT_EQ(error_of([&] { store.create("dup"); }, &code), "container `dup` already exists");
  EXPECT_EQ(code, EEXIST);
}

TEST(StateStore, OpenUnknownSaysDoesNotExist) {
  TempDir tmp;
  StateStore store(tmp.path());
  int code = 0;
  EXPECT_EQ(error_of([&] { store.open("ghost"); }, &code), "container `ghost` does not exist");
  EXPECT_EQ(code, ENOENT);
  EXPECT_EQ(error_of([&] { store.open("ghost", false); }), "container `ghost` does not exist");
}

TEST(StateStore, CreateAndOpenValidateIds) {
  TempDir tmp;
  StateStore store(tmp.path() + "/root");
  EXPECT_EQ(error_of([&] { store.create("../escape"); }), "invalid container ID `../escape`");
  EXPECT_EQ(error_of([&] { store.create("a/../../escape"); }),
            "invalid character `/` in the container ID `a/../../escape`");
  EXPECT_EQ(error_of([&] { store.open(".."); }), "invalid container ID `..`");
  EXPECT_FALSE(stdfs::exists(tmp.path() + "/escape"));
}

TEST(StateStore, OpenDoesNotFollowSymlinks) {
  TempDir tmp;
  StateStore store(tmp.path() + "/root");
  ASSERT_EQ(::mkdir((tmp.path() + "/elsewhere").c_str(), 0700), 0);
  ASSERT_EQ(::symlink("../elsewhere", (tmp.path() + "/root/evil").c_str()), 0);
  EXPECT_NE(error_of([&] { store.open("evil"); }), "");
}

TEST(StateStore, RemoveWorksWithoutRootFd) {
  TempDir tmp;
  StateStore store(tmp.path());
  store.create("plain");
  UniqueFd fd(::open((tmp.path() + "/plain").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  ContainerDir c("plain", tmp.path() + "/plain", std::move(fd));
  urun::fs::write_file(tmp.path() + "/plain/state.json", "{}");
  c.remove();
  EXPECT_FALSE(stdfs::exists(tmp.path() + "/plain"));
}

// ---- Record -------------------------------------------------------------

Record sample_record() {
  Record r;
  r.oci_version = "1.2.0";
  r.id = "web";
  r.status = "running";
  r.pid = 4242;
  r.pid_start_time = 123456789012ULL;
  r.bundle = "/srv/bundles/web";
  r.rootfs = "/srv/bundles/web/rootfs";
  r.config_path = "/srv/bundles/web/config.json";
  r.created = "2026-11-22T07:13:53.123456789Z";
  r.owner = "alice";
  r.owner_uid = 1000;
  r.rootless = true;
  r.systemd_cgroup = true;
  r.cgroup_manager = "systemd";
  r.cgroup_path = "/user.slice/urun-web.scope";
  r.helper_pids = {77, 78};
  r.helper_start_times = {5000, 5001};
  r.detached = false;
  r.poststart_hooks = false;
  r.annotations = {{"org.example/a", "1"}, {"b", "two words"}};
  r.creator_pid = 4200;
  r.creator_start_time = 123456789000ULL;
  return r;
}

void expect_same(const Record& a, const Record& b) {
  EXPECT_EQ(a.oci_version, b.oci_version);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.pid_start_time, b.pid_start_time);
  EXPECT_EQ(a.bundle, b.bundle);
  EXPECT_EQ(a.rootfs, b.rootfs);
  EXPECT_EQ(a.config_path, b.config_path);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.owner_uid, b.owner_uid);
  EXPECT_EQ(a.rootless, b.rootless);
  EXPECT_EQ(a.systemd_cgroup, b.systemd_cgroup);
  EXPECT_EQ(a.cgroup_manager, b.cgroup_manager);
  EXPECT_EQ(a.cgroup_path, b.cgroup_path);
  EXPECT_EQ(a.helper_pids, b.helper_pids);
  EXPECT_EQ(a.helper_start_times, b.helper_start_times);
  EXPECT_EQ(a.detached, b.detached);
  EXPECT_EQ(a.poststart_hooks, b.poststart_hooks);
  EXPECT_EQ(a.annotations, b.annotations);
  EXPECT_EQ(a.creator_pid, b.creator_pid);
  EXPECT_EQ(a.creator_start_time, b.creator_start_time);
}

TEST(StateRecord, JsonRoundTripAndOciKeys) {
  Record r = sample_record();
  std::string text = urun::state::to_json_text(r);
  expect_same(urun::state::from_json_text(text, "state.json"), r);

  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["ociVersion"], "1.2.0");
  EXPECT_EQ(j["id"], "web");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["bundle"], "/srv/bundles/web");
  EXPECT_EQ(j["annotations"]["b"], "two words");
  EXPECT_EQ(j["pidStartTime"], 123456789012ULL);
  EXPECT_EQ(j["cgroupManager"], "systemd");
  EXPECT_EQ(j["helperPids"], nlohmann::json::array({77, 78}));
  EXPECT_EQ(j["helperStartTimes"], nlohmann::json::array({5000, 5001}));
  EXPECT_EQ(j["ownerUid"], 1000);
  EXPECT_EQ(j["creatorPid"], 4200);
  EXPECT_EQ(j["creatorStartTime"], 123456789000ULL);
  EXPECT_EQ(j["poststartHooks"], false);
}

TEST(StateRecord, EmptyAnnotationsAreOmitted) {
  Record r;
  r.id = "x";
  r.status = "created";
  auto j = nlohmann::json::parse(urun::state::to_json_text(r));
  EXPECT_FALSE(j.contains("annotations"));
}

TEST(StateRecord, MissingOptionalKeysDefaultAndUnknownKeysIgnored) {
  Record r = urun::state::from_json_text(
      R"({"id":"x","status":"stopped","future":{"a":[1,2]},"pid":null})", "state.json");
  EXPECT_EQ(r.id, "x");
  EXPECT_EQ(r.status, "stopped");
  EXPECT_EQ(r.pid, 0);
  EXPECT_TRUE(r.detached);
  EXPECT_TRUE(r.poststart_hooks);  // unknown: start looks at the config
  EXPECT_FALSE(r.rootless);
  EXPECT_TRUE(r.helper_pids.empty());
}

TEST(StateRecord, BadInputNamesFileAndKey) {
  auto parse = [](const char* text) {
    return error_of([&] { urun::state::from_json_text(text, "/r/c/state.json"); });
  };
  EXPECT_EQ(parse("{\"id\":"), "parse `/r/c/state.json`: not valid JSON");
  EXPECT_EQ(parse("[]"), "parse `/r/c/state.json`: not a JSON object");
  EXPECT_EQ(parse(R"({"status":"created"})"), "parse `/r/c/state.json`: missing key `id`");
  EXPECT_EQ(parse(R"({"id":"x","status":"created","pid":"12"})"),
            "parse `/r/c/state.json`: key `pid` is not a non-negative integer");
  EXPECT_EQ(parse(R"({"id":"x","status":"created","pid":-1})"),
            "parse `/r/c/state.json`: key `pid` is not a non-negative integer");
  EXPECT_EQ(parse(R"({"id":"x","status":"created","pid":99999999999})"),
            "parse `/r/c/state.json`: key `pid` is not in range");
  EXPECT_EQ(parse(R"({"id":"x","status":"created","rootless":1})"),
            "parse `/r/c/state.json`: key `rootless` is not a boolean");
  EXPECT_EQ(parse(R"({"id":"x","status":"created","annotations":{"a":1}})"),
            "parse `/r/c/state.json`: key `annotations` is not an object of strings");
}

TEST(StateRecord, WriteReadThroughContainerDirLeavesNoTemp) {
  TempDir tmp;
  StateStore store(tmp.path());
  ContainerDir c = store.create("web");
  int code = 0;
  std::string msg = error_of([&] { c.read(); }, &code);
  EXPECT_EQ(code, ENOENT);
  EXPECT_NE(msg.find("`" + tmp.path() + "/web/state.json`"), std::string::npos) << msg;

  Record r = sample_record();
  c.write(r);
  r.status = "stopped";
  c.write(r);  // overwrite goes through rename too
  EXPECT_TRUE(c.has_record());
  expect_same(c.read(), r);

  std::vector<std::string> names;
  for (const auto& e : stdfs::directory_iterator(c.path())) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"state.json"});
  struct stat st {};
  ASSERT_EQ(::stat((c.path() + "/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  urun::fs::write_file(c.path() + "/state.json", "{garbage");
  msg = error_of([&] { c.read(); }, &code);
  EXPECT_EQ(msg, "parse `" + tmp.path() +
                     "/web/state.json`: not valid JSON (truncated?); `delete --force web` removes "
                     "the container");
  EXPECT_EQ(code, EUCLEAN);
}

// ---- Concurrency --------------------------------------------------------

TEST(StateConcurrency, FiftyParallelCreatesOneWins) {
  TempDir tmp;
  // The root does not exist yet: the children also race on making it.
  std::string root = tmp.path() + "/root";
  constexpr int kChildren = 50;
  Pipe go;
  std::vector<pid_t> pids;
  for (int i = 0; i < kChildren; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      go.w.reset();
      char c;
      // Start together: block until the parent closes its write end.
      while (::read(go.r.get(), &c, 1) < 0 && errno == EINTR) {
      }
      try {
        StateStore store(root);
        ContainerDir dir = store.create("contended");
        ::_exit(0);
      } catch (const Error& e) {
        bool dup =
            e.code() == EEXIST && std::string(e.what()) == "container `contended` already exists";
        ::_exit(dup ? 1 : 2);
      } catch (...) {
        ::_exit(3);
      }
    }
    pids.push_back(pid);
  }
  go.w.reset();
  int won = 0, lost = 0, other = 0;
  for (pid_t pid : pids) {
    int code = wait_exit_code(pid);
    if (code == 0)
      ++won;
    else if (code == 1)
      ++lost;
    else
      ++other;
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, kChildren - 1);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(StateStore(root).list_ids(), std::vector<std::string>{"contended"});
}

// Forks a child that opens `id` (shared or exclusive) once told to, reports
// "opened" (1 byte 'o') or "does not exist" ('n') on a pipe, then exits.
struct Opener {
  pid_t pid = -1;
  Pipe start, result;

  Opener(const std::string& root, const std::string& id, bool exclusive) {
    pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      start.w.reset();
      result.r.reset();
      char c;
      while (::read(start.r.get(), &c, 1) < 0 && errno == EINTR) {
      }
      char out = 'e';
      try {
        StateStore store(root);
        ContainerDir dir = store.open(id, exclusive);
        out = 'o';
      } catch (const Error& e) {
        if (e.code() == ENOENT && std::string(e.what()) == "container `" + id + "` does not exist")
          out = 'n';
      }
      (void)!::write(result.w.get(), &out, 1);
      ::_exit(0);
    }
    start.r.reset();
    result.w.reset();
  }
  void go() { start.w.reset(); }
  char outcome() {
    char c = 0;
    if (::read(result.r.get(), &c, 1) != 1) c = 0;
    return c;
  }
  ~Opener() {
    if (pid > 0) wait_exit_code(pid);
  }
};

TEST(StateConcurrency, SharedReaderBlocksWhileWriterHoldsLock) {
  TempDir tmp;
  StateStore store(tmp.path());
  store.create("locked");
  // Fork before taking the lock: a forked child would otherwise share the
  // lock's open file description and keep it held after we let go.
  Opener reader(tmp.path(), "locked", /*exclusive=*/false);
  std::optional<ContainerDir> writer = store.open("locked", true);
  reader.go();
  EXPECT_FALSE(readable_within(reader.result.r.get(), 300)) << "reader got past an exclusive lock";
  writer.reset();
  ASSERT_TRUE(readable_within(reader.result.r.get(), 5000)) << "reader never got the lock";
  EXPECT_EQ(reader.outcome(), 'o');
}

TEST(StateConcurrency, SharedLocksDoNotBlockEachOther) {
  TempDir tmp;
  StateStore store(tmp.path());
  store.create("shared");
  Opener reader(tmp.path(), "shared", /*exclusive=*/false);
  ContainerDir mine = store.open("shared", false);
  reader.go();
  ASSERT_TRUE(readable_within(reader.result.r.get(), 5000)) << "shared lock blocked a reader";
  EXPECT_EQ(reader.outcome(), 'o');
}

TEST(StateConcurrency, WaiterSeesDeleteAsDoesNotExist) {
  TempDir tmp;
  StateStore store(tmp.path());
  store.create("doomed");
  Opener waiter(tmp.path(), "doomed", /*exclusive=*/true);
  std::optional<ContainerDir> deleter = store.open("doomed", true);
  waiter.go();
  EXPECT_FALSE(readable_within(waiter.result.r.get(), 200));
  deleter->remove();
  deleter.reset();  // releases the lock of the now unlinked directory
  ASSERT_TRUE(readable_within(waiter.result.r.get(), 5000));
  EXPECT_EQ(waiter.outcome(), 'n');
}

TEST(StateConcurrency, WaiterFindsRecreatedContainer) {
  TempDir tmp;
  StateStore store(tmp.path());
  store.create("phoenix");
  Opener waiter(tmp.path(), "phoenix", /*exclusive=*/true);
  std::optional<ContainerDir> old = store.open("phoenix", true);
  waiter.go();
  EXPECT_FALSE(readable_within(waiter.result.r.get(), 200));
  old->remove();
  ContainerDir fresh = store.create("phoenix");  // locked by us until the end of the test
  Record r;
  r.id = "phoenix";
  r.status = "created";
  fresh.write(r);
  old.reset();
  // The waiter moves on to the new directory, which we still hold.
  EXPECT_FALSE(readable_within(waiter.result.r.get(), 200));
  { ContainerDir gone = std::move(fresh); }
  ASSERT_TRUE(readable_within(waiter.result.r.get(), 5000));
  EXPECT_EQ(waiter.outcome(), 'o');
}

// ---- /proc/<pid>/stat ---------------------------------------------------

TEST(StateProc, ParsesStartTimeAfterLastParen) {
  // comm "a) (b) c" holds spaces and ')'; 22nd field is 987654.
  std::string line =
      "1234 (a) (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 987654 1000000 200 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  EXPECT_EQ(urun::state::parse_stat_start_time(line), 987654u);
  EXPECT_EQ(urun::state::parse_stat_state(line), 'S');
  std::string zombie = "9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
  EXPECT_EQ(urun::state::parse_stat_start_time(zombie), 55u);
  EXPECT_EQ(urun::state::parse_stat_state(zombie), 'Z');
}

TEST(StateProc, MalformedStatLinesGiveZero) {
  EXPECT_EQ(urun::state::parse_stat_start_time(""), 0u);
  EXPECT_EQ(urun::state::parse_stat_start_time("12 (no close paren S 1 2 3"), 0u);
  EXPECT_EQ(urun::state::parse_stat_start_time("12 (short) S 1 2 3"), 0u);
  EXPECT_EQ(
      urun::state::parse_stat_start_time("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12abc 0"),
      0u);
  EXPECT_EQ(urun::state::parse_stat_state("1 (x)"), '\0');
}

TEST(StateProc, SelfIsAliveAndReapedChildIsNot) {
  uint64_t mine = urun::state::process_start_time(::getpid());
  EXPECT_GT(mine, 0u);
  EXPECT_TRUE(urun::state::process_alive(::getpid(), mine));
  EXPECT_TRUE(urun::state::process_alive(::getpid(), 0));
  EXPECT_FALSE(urun::state::process_alive(::getpid(), mine + 1)) << "pid reuse not detected";
  EXPECT_EQ(urun::state::process_start_time(0), 0u);
  EXPECT_EQ(urun::state::process_start_time(-5), 0u);

  Pipe sync;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sync.w.reset();
    char c;
    (void)!::read(sync.r.get(), &c, 1);
    ::_exit(0);
  }
  sync.r.reset();
  uint64_t start = urun::state::process_start_time(child);
  EXPECT_GT(start, 0u);
  EXPECT_TRUE(urun::state::process_alive(child, start));

  sync.w.reset();  // child exits; until reaped it is a zombie
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  EXPECT_FALSE(urun::state::process_alive(child, start)) << "zombie counted as alive";

  ASSERT_EQ(wait_exit_code(child), 0);
  // The pid could in theory be reused already; then it has another start time.
  EXPECT_FALSE(urun::state::process_alive(child, start));
}

TEST(StateTime, Rfc3339NowIsUtcWithNanoseconds) {
  std::string t = urun::state::rfc3339_now();
  ASSERT_EQ(t.size(), 30u) << t;  // 2026-11-22T07:13:53.123456789Z
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
  for (size_t i : {0u, 1u, 2u, 3u, 20u, 28u}) EXPECT_TRUE(std::isdigit(t[i])) << t;
  time_t now = ::time(nullptr);
  tm utc{};
  ::gmtime_r(&now, &utc);
  EXPECT_EQ(std::stoi(t.substr(0, 4)), utc.tm_year + 1900);
}

// The arithmetic calendar agrees with gmtime_r, leap days and the epoch included.
TEST(StateTime, Rfc3339UtcMatchesGmtime) {
  EXPECT_EQ(urun::state::rfc3339_utc({0, 0}), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(urun::state::rfc3339_utc({951782400, 7}), "2000-02-29T00:00:00.000000007Z");
  EXPECT_EQ(urun::state::rfc3339_utc({1700000000, 500000000}), "2023-11-14T22:13:20.500000000Z");
  for (time_t t = 0; t < 4102444800; t += 86399 * 37 + 3601) {  // to 2100, odd steps
    tm utc{};
    ASSERT_NE(::gmtime_r(&t, &utc), nullptr);
    char want[32];
    ::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &utc);
    EXPECT_EQ(urun::state::rfc3339_utc({t, 123}), std::string(want) + ".000000123Z") << t;
  }
}

}  // namespace
