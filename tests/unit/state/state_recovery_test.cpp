// Broken records: reading whatever is found in place of a record file, the
// record create writes first (identity.json), and what `delete --force` may kill on its word.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "container/recovery.hpp"
#include "state/store.hpp"
#include "temp_dir.hpp"

namespace {

using urun::Error;
using urun::UniqueFd;
using urun::container::plan_recovery;
using urun::state::ContainerDir;
using urun::state::LoadedRecord;
using urun::state::Record;
using urun::state::StateStore;
using urun_test::TempDir;

Record record(const std::string& id, const std::string& status) {
  Record r;
  r.oci_version = "1.3.0";
  r.id = id;
  r.status = status;
  r.pid = 4242;
  r.pid_start_time = 987654;
  r.cgroup_manager = "disabled";
  return r;
}

std::string parse_error(std::string_view text, std::string_view id = "web") {
  try {
    urun::state::parse_record(text, id, "/r/web/state.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), EUCLEAN) << e.what();
    return e.what();
  }
  return "";
}

// ---- parse_record ---------------------------------------------------------

TEST(StateParseRecord, SaysWhatIsWrong) {
  EXPECT_EQ(parse_error(""), "`/r/web/state.json` is empty");
  std::string whole = urun::state::to_json_text(record("web", "running"));
  EXPECT_EQ(parse_error(whole.substr(0, whole.size() / 2)),
            "parse `/r/web/state.json`: not valid JSON (truncated?)");
  EXPECT_EQ(parse_error("\x7f\x45LF garbage"),
            "parse `/r/web/state.json`: not valid JSON (truncated?)");
  EXPECT_EQ(parse_error("[1,2]"), "parse `/r/web/state.json`: not a JSON object");
  EXPECT_EQ(parse_error(R"({"id":"web"})"), "parse `/r/web/state.json`: missing key `status`");
  EXPECT_EQ(parse_error(R"({"id":"web","status":"running","pid":-1})"),
            "parse `/r/web/state.json`: key `pid` is not a non-negative integer");
}

TEST(StateParseRecord, RefusesAnotherContainersRecord) {
  std::string other = urun::state::to_json_text(record("db", "running"));
  EXPECT_EQ(parse_error(other),
            "`/r/web/state.json` is the record of container `db`, not of `web`");
  // An id that could mess up a terminal is shown escaped.
  Record evil = record("x\x1b[2J", "running");
  EXPECT_EQ(parse_error(urun::state::to_json_text(evil)),
            "`/r/web/state.json` is the record of container `x\\x1b[2J`, not of `web`");
}

TEST(StateParseRecord, AcceptsItsOwnRecord) {
  Record r = urun::state::parse_record(urun::state::to_json_text(record("web", "created")), "web",
                                       "/r/web/state.json");
  EXPECT_EQ(r.id, "web");
  EXPECT_EQ(r.status, "created");
  EXPECT_EQ(r.pid_start_time, 987654u);
}

// ---- load_record_file: what is found in place of the file -----------------

class RecordFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() + "/web";
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
    fd_ = UniqueFd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd_);
  }
  LoadedRecord load() {
    return urun::state::load_record_file(fd_.get(), "state.json", "web", dir_);
  }
  std::string path() const { return dir_ + "/state.json"; }
  void expect_broken(const std::string& problem) {
    auto start = std::chrono::steady_clock::now();
    LoadedRecord l = load();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "it blocked";
    EXPECT_TRUE(l.broken());
    EXPECT_EQ(l.problem, "`" + path() + "` " + problem);
    EXPECT_EQ(l.file, path());
  }

  TempDir tmp_;
  std::string dir_;
  UniqueFd fd_;
};

TEST_F(RecordFile, AbsentIsNotBroken) {
  LoadedRecord l = load();
  EXPECT_EQ(l.kind, LoadedRecord::Kind::absent);
  EXPECT_EQ(l.problem, "");
}

TEST_F(RecordFile, WholeRecordLoads) {
  urun::fs::write_file(path(), urun::state::to_json_text(record("web", "running")), 0600);
  LoadedRecord l = load();
  ASSERT_TRUE(l.ok()) << l.problem;
  EXPECT_EQ(l.record.pid, 4242);
}

TEST_F(RecordFile, EmptyFile) {
  urun::fs::write_file(path(), "", 0600);
  expect_broken("is empty");
}

TEST_F(RecordFile, Directory) {
  ASSERT_EQ(::mkdir(path().c_str(), 0700), 0);
  expect_broken("is a directory, not a file");
}

TEST_F(RecordFile, SymlinkToAWholeRecordIsNotFollowed) {
  std::string elsewhere = tmp_.path() + "/copy.json";
  urun::fs::write_file(elsewhere, urun::state::to_json_text(record("web", "running")), 0600);
  ASSERT_EQ(::symlink(elsewhere.c_str(), path().c_str()), 0);
  expect_broken("is a symbolic link, not a file");
}

TEST_F(RecordFile, FifoDoesNotBlock) {
  ASSERT_EQ(::mkfifo(path().c_str(), 0600), 0);
  expect_broken("is a fifo, not a file");
}

TEST_F(RecordFile, Socket) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path().size(), sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path().c_str());
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  expect_broken("is a socket, not a file");
}

TEST_F(RecordFile, HugeFileIsNotRead) {
  UniqueFd f(::open(path().c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_EQ(::ftruncate(f.get(), off_t(1) << 32), 0);  // sparse: costs no disk
  expect_broken("is too large for a record (4294967296 bytes)");
}

// ---- ContainerDir: state.json, else identity.json ---------------------------

TEST(StateIdentity, IdentityIsTheRecordUntilStateJsonExists) {
  TempDir tmp;
  StateStore store(tmp.path());
  ContainerDir c = store.create("web");
  EXPECT_FALSE(c.has_record());
  EXPECT_EQ(c.load().kind, LoadedRecord::Kind::absent);
  EXPECT_EQ(store.peek("web").kind, LoadedRecord::Kind::absent);

  c.write_identity(record("web", "creating"));
  EXPECT_TRUE(c.has_record());
  EXPECT_EQ(c.read().status, "creating");
  EXPECT_EQ(store.peek("web").record.status, "creating");

  c.write(record("web", "created"));
  EXPECT_EQ(c.read().status, "created");
  EXPECT_EQ(store.peek("web").record.status, "created");
  // The identity stays as first written.
  LoadedRecord identity = c.load_identity();
  ASSERT_TRUE(identity.ok());
  EXPECT_EQ(identity.record.status, "creating");
  EXPECT_EQ(identity.file, c.path() + "/identity.json");
}

TEST(StateIdentity, BrokenStateJsonIsNotHiddenByTheIdentity) {
  TempDir tmp;
  StateStore store(tmp.path());
  ContainerDir c = store.create("web");
  c.write_identity(record("web", "creating"));
  c.write(record("web", "running"));
  urun::fs::write_file(c.path() + "/state.json", "{\"id\":\"web\",\"sta", 0600);
  LoadedRecord l = c.load();
  EXPECT_TRUE(l.broken());
  EXPECT_EQ(l.file, c.path() + "/state.json");
  LoadedRecord p = store.peek("web");
  EXPECT_TRUE(p.broken());
  int code = 0;
  try {
    c.read();
  } catch (const Error& e) {
    code = e.code();
    EXPECT_NE(std::string(e.what()).find("`delete --force web` removes the container"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(code, EUCLEAN);
  EXPECT_TRUE(c.load_identity().ok());
}

TEST(StateIdentity, PeekOfAMissingContainerSaysSo) {
  TempDir tmp;
  StateStore store(tmp.path());
  try {
    store.peek("ghost");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_EQ(std::string(e.what()), "container `ghost` does not exist");
  }
}

TEST(StateIdentity, RemoveTakesBrokenRecordsWithIt) {
  TempDir tmp;
  StateStore store(tmp.path());
  {
    ContainerDir c = store.create("web");
    ASSERT_EQ(::mkdir((c.path() + "/state.json").c_str(), 0700), 0);
    urun::fs::write_file(c.path() + "/state.json/inside", "x", 0600);
    ASSERT_EQ(::symlink("/etc/passwd", (c.path() + "/identity.json").c_str()), 0);
    c.remove();
  }
  EXPECT_FALSE(store.exists("web"));
  struct stat st {};
  EXPECT_EQ(::stat("/etc/passwd", &st), 0) << "the symlink's target must stay";
}

// ---- plan_recovery --------------------------------------------------------

LoadedRecord loaded(const Record& r) {
  LoadedRecord l;
  l.kind = LoadedRecord::Kind::ok;
  l.record = r;
  l.file = "/r/web/identity.json";
  return l;
}

TEST(StateRecoveryPlan, TheCgroupProvesEverythingInIt) {
  Record r = record("web", "creating");
  r.pid = 0;  // written before the init existed
  r.pid_start_time = 0;
  r.cgroup_manager = "cgroupfs";
  r.cgroup = {{"manager", "cgroupfs"},
              {"root", "/sys/fs/cgroup"},
              {"layout", "unified"},
              {"path", "/urun/web"}};
  auto plan = plan_recovery(loaded(r));
  EXPECT_TRUE(plan.kill_cgroup);
  EXPECT_FALSE(plan.kill_init);
  EXPECT_EQ(plan.unproven, "");
}

TEST(StateRecoveryPlan, WithoutACgroupThePidNeedsItsStartTime) {
  Record r = record("web", "creating");
  auto plan = plan_recovery(loaded(r));
  EXPECT_FALSE(plan.kill_cgroup);
  EXPECT_TRUE(plan.kill_init);

  // A pid alone is no proof: it may have been reused by any process.
  r.pid_start_time = 0;
  plan = plan_recovery(loaded(r));
  EXPECT_FALSE(plan.kill_cgroup);
  EXPECT_FALSE(plan.kill_init);
  EXPECT_EQ(plan.unproven,
            "`/r/web/identity.json` names neither a cgroup nor an init with its start time");

  r.pid = 0;
  r.pid_start_time = 987654;
  EXPECT_FALSE(plan_recovery(loaded(r)).kill_init);
}

TEST(StateRecoveryPlan, ADisabledOrMalformedCgroupIsNoCgroup) {
  Record r = record("web", "creating");
  r.pid_start_time = 0;
  r.cgroup = {{"manager", "disabled"}};
  EXPECT_FALSE(plan_recovery(loaded(r)).kill_cgroup);
  r.cgroup = {{"manager", 7}};
  EXPECT_FALSE(plan_recovery(loaded(r)).kill_cgroup);
  r.cgroup = {{"root", "/sys/fs/cgroup"}};
  EXPECT_FALSE(plan_recovery(loaded(r)).kill_cgroup);
  EXPECT_NE(plan_recovery(loaded(r)).unproven, "");
}

TEST(StateRecoveryPlan, NoIdentityNothingIsKilled) {
  LoadedRecord absent;
  absent.file = "/r/web/identity.json";
  auto plan = plan_recovery(absent);
  EXPECT_FALSE(plan.kill_cgroup || plan.kill_init);
  EXPECT_EQ(plan.unproven, "`/r/web/identity.json` is missing");

  LoadedRecord broken;
  broken.kind = LoadedRecord::Kind::broken;
  broken.file = "/r/web/identity.json";
  broken.problem = "`/r/web/identity.json` is empty";
  plan = plan_recovery(broken);
  EXPECT_FALSE(plan.kill_cgroup || plan.kill_init);
  EXPECT_EQ(plan.unproven, "`/r/web/identity.json` is empty");
}

}  // namespace
