// The JSON documents a user hands the runtime: config.json, exec --process, update --resources.
// A FIFO (or another file that is not a regular one) is refused without blocking, a document
// bigger than the bound is refused before it is read (quickly, in little memory), a document
// nested absurdly deep is refused, and a number out of range names its JSON path, never the JSON
// library's own message.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class JsonInput : public IntegrationTest {
 protected:
  // A FIFO owned by the mode's identity, with nobody writing to it.
  std::string make_fifo(const std::string& path) {
    ::unlink(path.c_str());
    if (::mkfifo(path.c_str(), 0644) != 0) throw std::runtime_error("mkfifo " + path);
    if (::chown(path.c_str(), identity().uid, identity().gid) != 0)
      throw std::runtime_error("chown " + path);
    return path;
  }
  // The config with `marker` (a number in it) replaced by `literal`, as JSON text.
  static std::string replace_number(std::string text, const std::string& marker,
                                    const std::string& literal) {
    size_t at = text.find(marker);
    if (at == std::string::npos) throw std::runtime_error("marker not found");
    return text.replace(at, marker.size(), literal);
  }
  RunOptions quick() const {
    RunOptions o;
    o.timeout = 5000ms;
    return o;
  }
};

TEST_P(JsonInput, FifoConfigIsRefusedWithoutBlocking) {
  if (is_runc()) GTEST_SKIP() << "runc reads whatever config.json is (and blocks on a FIFO)";
  Bundle b = make_bundle();
  make_fifo(b.path("config.json"));
  Result r = rt().run({"create", "--bundle", b.dir, "fifo"}, quick());
  ASSERT_NE(r.exit_code, -1) << "create blocked on the FIFO\n" << r.describe();
  expect_clean_failure(r, "config.json");
  EXPECT_NE(r.err.find("is a FIFO, not a regular file"), std::string::npos) << r.err;
}

// The old code read all of it (and parsing doubled that): 100 MB took 232 MB and seconds.
TEST_P(JsonInput, HugeConfigIsRefusedQuicklyInLittleMemory) {
  if (is_runc()) GTEST_SKIP() << "runc has no bound on config.json";
  if (!path_exists("/usr/bin/time")) GTEST_SKIP() << "GNU time (/usr/bin/time) measures the RSS";
  Bundle b = make_bundle();
  // A valid config, made 100 MB big by one annotation (written in pieces: the test need not
  // hold it).
  b.config["annotations"]["org.example.padding"] = "PADDING";
  const std::string text = b.config.dump();
  const size_t at = text.find("PADDING");
  {
    std::ofstream out(b.path("config.json"), std::ios::binary | std::ios::trunc);
    out << text.substr(0, at);
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) out << chunk;
    out << text.substr(at + 7);
    ASSERT_TRUE(out.good());
  }
  std::string stats = dir() + "/time.out";
  auto start = std::chrono::steady_clock::now();
  Result r = run_as(identity(),
                    {"/usr/bin/time", "-o", stats, "-f", "%M", world().runtime(), "--root",
                     rt().state_root(), "create", "--bundle", b.dir, "big"},
                    dir() + "/io", quick());
  auto took = std::chrono::steady_clock::now() - start;
  expect_clean_failure(r, "config.json");
  EXPECT_NE(r.err.find("4 MiB"), std::string::npos) << "the error names the bound\n" << r.err;
  EXPECT_LT(took, 2s) << "refused before it was read";
  // The last line of GNU time's output is the peak RSS in KiB.
  std::vector<std::string> lines = split_lines(read_file(stats));
  ASSERT_FALSE(lines.empty()) << read_file(stats);
  long peak_kib = std::stol(lines.back());
  EXPECT_LT(peak_kib, 32 * 1024) << "peak RSS of the refused create";
}

TEST_P(JsonInput, DeeplyNestedConfigIsRefused) {
  if (is_runc()) GTEST_SKIP() << "Go's JSON decoder has its own depth limit and words";
  Bundle b = make_bundle();
  // Deep inside the seccomp profile: the old code crashed (SIGSEGV) printing it for the cache key
  // and left the container's state behind.
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"x", 424242}};
  const size_t depth = 1000000;
  write_file(
      b.path("config.json"),
      replace_number(b.config.dump(), "424242", std::string(depth, '[') + std::string(depth, ']')));
  Result r = create(b, "deep");
  expect_clean_failure(r, "config.json: linux.seccomp.x[0]");
  EXPECT_NE(r.err.find("nested deeper than"), std::string::npos) << r.err.substr(0, 300);
}

TEST_P(JsonInput, NumbersOutOfRangeNameThePath) {
  if (is_runc()) GTEST_SKIP() << "runc's messages are Go's";
  Bundle b = make_bundle();
  b.config["process"]["user"]["uid"] = 424242;
  const std::string text = b.config.dump(2);
  // Beyond any C type: the JSON parser refuses it; the old code printed the library's message
  // ("[json.exception.out_of_range.406] ...") without the container or the file.
  write_file(b.path("config.json"), replace_number(text, "424242", "1e400"));
  Result r = create(b, "n1");
  expect_clean_failure(r,
                       "create `n1`: config.json: process.user.uid: number 1e400 is out of range");
  // Malformed: the position, and the file named once (it used to be "config.json: config.json").
  write_file(b.path("config.json"), replace_number(text, "424242", "1x"));
  r = create(b, "n0");
  expect_clean_failure(r, "create `n0`: config.json: malformed JSON at line ");
  EXPECT_EQ(r.err.find("config.json: config.json"), std::string::npos) << r.err;
  // Beyond the field's type.
  for (const char* literal : {"1099511627776", "-1", "1.5"}) {
    SCOPED_TRACE(literal);
    write_file(b.path("config.json"), replace_number(text, "424242", literal));
    r = create(b, "n2");
    expect_clean_failure(r,
                         "create `n2`: config.json: process.user.uid: must be an unsigned 32-bit "
                         "integer");
  }
}

// exec --process and update --resources take JSON documents too: the same bound and messages.
// The process file may be a pipe, as crun reads `--process <(...)`; a directory is refused.
TEST_P(JsonInput, ProcessAndResourcesFilesAreCheckedLikeTheConfig) {
  if (is_runc()) GTEST_SKIP() << "runc has no bound and its own messages";
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "c1"));
  ASSERT_RUN_OK(rt().run({"start", "c1"}));

  Result r = rt().run({"exec", "--process", dir(), "c1"}, quick());
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("`" + dir() + "`: is a directory, not a regular file"), std::string::npos)
      << r.err;

  Json piped = {
      {"args", {"echo", "from-a-pipe"}}, {"cwd", "/"}, {"user", {{"uid", 0}, {"gid", 0}}}};
  write_file(dir() + "/piped.json", piped.dump());
  r = run_as(identity(),
             {"sh", "-c", "cat \"$1\" | \"$2\" --root \"$3\" exec --process /dev/stdin c1", "sh",
              dir() + "/piped.json", world().runtime(), rt().state_root()},
             dir() + "/io", quick());
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "from-a-pipe") << r.describe();

  Json proc = {{"args", {"true"}}, {"cwd", "/"}, {"user", {{"uid", 424242}, {"gid", 0}}}};
  std::string file = dir() + "/process.json";
  write_file(file, replace_number(proc.dump(), "424242", "1e400"));
  r = rt().run({"exec", "--process", file, "c1"}, quick());
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("process file `" + file + "`: user.uid: number 1e400 is out of range"),
            std::string::npos)
      << r.err;

  proc["user"]["uid"] = 0;
  proc["env"] = {"PADDING=" + std::string(5 << 20, 'x')};
  write_file(file, proc.dump());
  r = rt().run({"exec", "--process", file, "c1"}, quick());
  EXPECT_NE(r.exit_code, 0) << "a 5 MB process file is refused\n" << r.describe();
  EXPECT_NE(r.err.find("4 MiB"), std::string::npos) << r.err;

  std::string resources = dir() + "/resources.json";
  write_file(resources, Json{{"pids", {{"limit", 100}}}, {"x", std::string(5 << 20, 'x')}}.dump());
  r = rt().run({"update", "--resources", resources, "c1"}, quick());
  EXPECT_NE(r.exit_code, 0) << "a 5 MB resources file is refused\n" << r.describe();
  EXPECT_NE(r.err.find("4 MiB"), std::string::npos) << r.err;
  write_file(resources, R"({"pids": {"limit": 1e400}})");
  r = rt().run({"update", "--resources", resources, "c1"}, quick());
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("pids.limit: number 1e400 is out of range"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;

  EXPECT_RUN_OK(rt().run({"delete", "--force", "c1"}));
}

URUN_IT_INSTANTIATE(JsonInput);

}  // namespace
}  // namespace urun_it
