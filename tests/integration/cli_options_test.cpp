// Commands and options of current crun (1.2x) and runc (1.2): run --keep, exec -g and exec's
// option parsing, --no-subreaper, the global --rootless, --usage and -?, container ids as crun
// 1.28 restricts them, --version and features.
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

class CliOptions : public IntegrationTest {
 protected:
  // A created and started container running `sleep 1000`.
  void start_sleeper(const std::string& id, bool subordinate_ids = false) {
    Bundle b = make_bundle({.name = id});
    b.set_args({"sleep", "1000"});
    if (subordinate_ids) map_subordinate_ids(b);
    b.save();
    ASSERT_RUN_OK(create(b, id));
    ASSERT_RUN_OK(rt().run({"start", id}));
  }
};

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

// The container outlives its process, stopped, until `delete`, which then removes it.
TEST_P(CliOptions, RunKeepLeavesAStoppedContainerForDelete) {
  Bundle b = make_bundle();
  b.sh("echo kept; exit 3");
  b.save();
  Result r = rt().run({"run", "--keep", "--bundle", b.dir, "kept"});
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_EQ(trim(r.out), "kept");
  EXPECT_EQ(rt().status("kept"), "stopped");
  std::vector<std::string> ids = rt().list_ids();
  EXPECT_NE(std::find(ids.begin(), ids.end(), "kept"), ids.end());
  ASSERT_RUN_OK(rt().run({"delete", "kept"}));
  EXPECT_NE(rt().run({"state", "kept"}).exit_code, 0) << "delete left the container";
  // Without --keep the container goes with its process.
  Result gone = run_container(b, "gone");
  EXPECT_EQ(gone.exit_code, 3) << gone.describe();
  EXPECT_NE(rt().run({"state", "gone"}).exit_code, 0);
}

// crun: "do not create a subreaper process (ignored)": accepted by create, run and exec.
TEST_P(CliOptions, NoSubreaperIsAcceptedByCreateRunAndExec) {
  Bundle b = make_bundle();
  b.sh("echo ran");
  b.save();
  Result r = rt().run({"run", "--no-subreaper", "--bundle", b.dir, "r1"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "ran");

  Bundle s = make_bundle({.name = "sleeper"});
  s.set_args({"sleep", "1000"});
  s.save();
  ASSERT_RUN_OK(create(s, "c1", {"--no-subreaper"}));
  ASSERT_RUN_OK(rt().run({"start", "c1"}));
  Result e = rt().run({"exec", "--no-subreaper", "c1", "echo", "in"});
  EXPECT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_EQ(trim(e.out), "in");
}

// runc's global option, accepted (and ignored) by crun so that a runc command line works.
TEST_P(CliOptions, GlobalRootlessTakesTrueFalseOrAuto) {
  for (const char* v : {"true", "false", "auto"}) {
    Result r = rt().run({"--rootless", v, "list", "-q"});
    EXPECT_EQ(r.exit_code, 0) << v << "\n" << r.describe();
    Result eq = rt().run({std::string("--rootless=") + v, "list", "-q"});
    EXPECT_EQ(eq.exit_code, 0) << v << "\n" << eq.describe();
  }
  if (is_runc()) return;
  Result bad = rt().run({"--rootless", "maybe", "list"});
  EXPECT_NE(bad.exit_code, 0) << bad.describe();
  EXPECT_NE(bad.err.find("maybe"), std::string::npos) << bad.describe();
}

TEST_P(CliOptions, UsageAndQuestionMarkPrintTheUsage) {
  if (is_runc()) GTEST_SKIP() << "runc has neither --usage nor -?";
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--usage"}, {"-?"}, {"run", "--usage"}, {"exec", "-?"}, {"update", "--usage"}}) {
    Result r = rt().run(args);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.describe();
  }
  EXPECT_NE(rt().run({"exec", "-?"}).out.find("--additional-gids"), std::string::npos);
}

// exec's own options count wherever they stand before the container id; from the id on,
// everything is the command; an unknown option is an error and nothing runs.
TEST_P(CliOptions, ExecOptionsBeforeTheIdAndUnknownOnesRefused) {
  ASSERT_NO_FATAL_FAILURE(start_sleeper("c1"));
  Result r =
      rt().run({"exec", "-e", "A=1", "--cwd", "/tmp", "-u", "0", "c1", "sh", "-c", "echo $A; pwd"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "1\n/tmp\n");
  Result after = rt().run({"exec", "c1", "sh", "-c", "echo \"$@\"", "sh", "--cwd", "-t", "-e"});
  EXPECT_EQ(after.exit_code, 0) << after.describe();
  EXPECT_EQ(after.out, "--cwd -t -e\n") << "options after the id belong to the command";
  Result dashdash = rt().run({"exec", "c1", "--", "echo", "x"});
  EXPECT_EQ(dashdash.exit_code, 0) << dashdash.describe();
  EXPECT_EQ(dashdash.out, "x\n");

  Result bogus = rt().run({"exec", "--bogus", "c1", "sh", "-c", "touch /dev/shm/ran"});
  // A usage error (1), not a command that could not be found (127): nothing was run.
  EXPECT_EQ(bogus.exit_code, 1) << bogus.describe();
  EXPECT_NE(bogus.err.find("--bogus"), std::string::npos) << bogus.describe();
  if (!is_runc()) {
    EXPECT_NE(bogus.err.find("not expected"), std::string::npos) << bogus.describe();
  }
  EXPECT_EQ(bogus.err_lines().size(), 1u) << bogus.describe();
  Result ran = rt().run({"exec", "c1", "test", "-e", "/dev/shm/ran"});
  EXPECT_NE(ran.exit_code, 0) << "the command ran after an unknown option";
}

// runc's -g/--additional-gids: more supplementary groups, repeatable and comma separated.
TEST_P(CliOptions, ExecAdditionalGidsAreTheProcessGroups) {
  ASSERT_NO_FATAL_FAILURE(start_sleeper("c1", true));
  Result r = rt().run(
      {"exec", "-u", "1000:1000", "-g", "10", "--additional-gids", "20,30", "c1", "id", "-G"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(words(r.out), (std::set<std::string>{"1000", "10", "20", "30"})) << r.out;
  // Also read from the kernel's view, not only id(1)'s.
  Result status = rt().run({"exec", "-g", "10", "c1", "grep", "^Groups:", "/proc/self/status"});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  EXPECT_NE(words(status.out).count("10"), 0u) << status.out;

  Result bad = rt().run({"exec", "-g", "ten", "c1", "true"});
  EXPECT_NE(bad.exit_code, 0) << bad.describe();
  EXPECT_EQ(bad.err_lines().size(), 1u) << bad.describe();
}

// crun 1.28: letters, digits, _ + . - and no leading dot, with crun's words.
TEST_P(CliOptions, ContainerIdsAreRestrictedAsCrunDoes) {
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.save();
  for (const std::string id : {"a:b", "a b", "x@y", "semi;colon"}) {
    SCOPED_TRACE(id);
    Result r = create(b, id);
    expect_clean_failure(r, id);
    if (!is_runc()) {
      const std::string bad(1, id[id.find_first_of(": @;")]);
      const std::string want = "invalid character `" + bad + "` in the container ID `" + id + "`";
      EXPECT_NE(r.err.find(want), std::string::npos) << r.describe();
    }
  }
  Result dot = create(b, ".hidden");
  expect_clean_failure(dot, ".hidden");
  if (!is_runc()) {
    EXPECT_NE(dot.err.find("invalid container ID `.hidden`"), std::string::npos) << dot.describe();
  }
  Result ok = run_container(b, "k8s.io_pod+1-x");
  EXPECT_EQ(ok.exit_code, 0) << ok.describe();
}

TEST_P(CliOptions, VersionListsFeatureTagsAndFeaturesIsTruthful) {
  if (is_runc()) GTEST_SKIP() << "runc prints neither tags nor urun's features";
  Result v = rt().run({"--version"});
  ASSERT_EQ(v.exit_code, 0) << v.describe();
  std::vector<std::string> lines = split_lines(v.out);
  ASSERT_GE(lines.size(), 4u) << v.out;
  EXPECT_EQ(lines[0].rfind("urun version ", 0), 0u) << v.out;
  std::set<std::string> tags = words(lines.back());
  for (const char* t : {"+SELINUX", "+APPARMOR", "+CAP", "+SECCOMP", "+EBPF"})
    EXPECT_EQ(tags.count(t), 1u) << t << " in " << lines.back();

  Result f = rt().run({"features"});
  ASSERT_EQ(f.exit_code, 0) << f.describe();
  Json j = Json::parse(f.out);
  EXPECT_EQ(j["ociVersionMax"], "1.3.0");
  EXPECT_EQ(j["linux"]["cgroup"]["v1"], true);
  EXPECT_EQ(j["linux"]["cgroup"]["v2"], true);
  EXPECT_FALSE(j["linux"]["capabilities"].empty());
  EXPECT_EQ(tags.count("+SYSTEMD"), j["linux"]["cgroup"]["systemd"].get<bool>() ? 1u : 0u);
  // A mount option features lists is applied: rro makes the bind mount read-only.
  bool has_rro = false;
  for (const auto& o : j["mountOptions"]) has_rro = has_rro || o == "rro";
  ASSERT_TRUE(has_rro);
  Bundle b = make_bundle();
  std::string src = make_host_dir("vol");
  b.add_mount({{"destination", "/home/user"},
               {"type", "bind"},
               {"source", src},
               {"options", {"rbind", "rro"}}});
  b.sh("touch /home/user/x 2>/dev/null && echo writable || echo readonly");
  b.save();
  Result r = run_container(b, "rro");
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "readonly");
}

URUN_IT_INSTANTIATE(CliOptions);

}  // namespace
}  // namespace urun_it
