// Container lifecycle through the CLI: create, start, state, kill, delete, run, list.
#include <signal.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "harness.hpp"

namespace urun_it {
namespace {

class Lifecycle : public IntegrationTest {};

TEST_P(Lifecycle, CreateStartKillDeleteWithEachSignalSpelling) {
  Bundle b = make_bundle();
  b.sh("echo started; exec sleep 1000");
  b.save();
  for (const std::string sig : {"9", "KILL", "SIGKILL"}) {
    SCOPED_TRACE("signal " + sig);
    std::string id = "c-" + sig;
    Result c = create(b, id);
    ASSERT_EQ(c.exit_code, 0) << c.describe();

    Json st = rt().state(id);
    ASSERT_EQ(st.value("status", ""), "created") << st.dump();
    ASSERT_TRUE(st.contains("pid") && st["pid"].is_number_integer()) << st.dump();
    pid_t pid = st["pid"].get<pid_t>();
    EXPECT_GT(pid, 0);
    EXPECT_TRUE(pid_alive(pid)) << "the created container's process must exist";
    EXPECT_EQ(c.read_out().find("started"), std::string::npos)
        << "the process must not run its program before start";

    Result s = rt().run({"start", id});
    ASSERT_EQ(s.exit_code, 0) << s.describe();
    EXPECT_EQ(rt().status(id), "running");
    EXPECT_NE(wait_file_contains(c.out_path, "started").find("started"), std::string::npos);

    Result k = rt().run({"kill", id, sig});
    ASSERT_EQ(k.exit_code, 0) << k.describe();
    EXPECT_EQ(rt().wait_status(id, "stopped"), "stopped");

    Result d = rt().run({"delete", id});
    ASSERT_EQ(d.exit_code, 0) << d.describe();
    EXPECT_FALSE(pid_alive(pid));
    EXPECT_EQ(rt().run({"state", id}).exit_code == 0, false) << "state after delete must fail";
  }
  EXPECT_TRUE(state_entries().empty());
}

TEST_P(Lifecycle, SecondStartFails) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "twice"));
  ASSERT_RUN_OK(rt().run({"start", "twice"}));
  Result again = rt().run({"start", "twice"});
  EXPECT_NE(again.exit_code, 0) << again.describe();
  EXPECT_EQ(again.err_lines().size(), 1u) << again.describe();
  if (!is_runc()) {
    EXPECT_NE(again.err.find("twice"), std::string::npos) << again.describe();
  }
  EXPECT_EQ(rt().status("twice"), "running") << "a refused start must not disturb the container";
}

TEST_P(Lifecycle, StartOfExitedContainerFails) {
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.save();
  ASSERT_RUN_OK(create(b, "short"));
  ASSERT_RUN_OK(rt().run({"start", "short"}));
  EXPECT_EQ(rt().wait_status("short", "stopped"), "stopped");
  EXPECT_NE(rt().run({"start", "short"}).exit_code, 0);
  EXPECT_RUN_OK(rt().run({"delete", "short"}));
}

TEST_P(Lifecycle, DeleteRunningNeedsForce) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "busy"));
  ASSERT_RUN_OK(rt().run({"start", "busy"}));
  pid_t pid = rt().state("busy").value("pid", 0);
  ASSERT_GT(pid, 0);

  Result d = rt().run({"delete", "busy"});
  EXPECT_NE(d.exit_code, 0) << d.describe();
  EXPECT_EQ(d.err_lines().size(), 1u) << d.describe();
  if (!is_runc()) {
    EXPECT_NE(d.err.find("busy"), std::string::npos) << d.describe();
  }
  EXPECT_EQ(rt().status("busy"), "running");
  EXPECT_TRUE(pid_alive(pid));

  Result f = rt().run({"delete", "--force", "busy"});
  EXPECT_EQ(f.exit_code, 0) << f.describe();
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
  EXPECT_FALSE(pid_alive(pid));
}

TEST_P(Lifecycle, DeleteCreatedContainerWithForce) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "never-started"));
  pid_t pid = rt().state("never-started").value("pid", 0);
  EXPECT_RUN_OK(rt().run({"delete", "--force", "never-started"}));
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
  EXPECT_FALSE(pid_alive(pid));
}

TEST_P(Lifecycle, RunReturnsExitStatus) {
  Bundle b = make_bundle();
  b.sh("echo out; echo err >&2; exit 3");
  b.save();
  Result r = run_container(b, "exit3");
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  // A foreground `run` deletes the container when it exits.
  EXPECT_NE(rt().run({"state", "exit3"}).exit_code, 0);
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
}

TEST_P(Lifecycle, RunPassesStdin) {
  Bundle b = make_bundle();
  b.set_args({"cat"});
  b.save();
  Result r = run_container(b, "cat", RunOptions{.stdin_data = "from stdin\n"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "from stdin\n");
}

TEST_P(Lifecycle, RunKilledBySignalReturns128PlusSignal) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  Proc p = rt().spawn({"run", "--bundle", b.dir, "victim"});
  ASSERT_EQ(rt().wait_status("victim", "running"), "running");
  Result k = rt().run({"kill", "victim", "KILL"});
  ASSERT_EQ(k.exit_code, 0) << k.describe();
  Result r = p.wait();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.describe();
}

// A foreground run must not hold the container's lock while its process runs: a
// `delete --force` from another shell ends it at once (it used to wait for the run).
TEST_P(Lifecycle, DeleteForceEndsAForegroundRun) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  Proc p = rt().spawn({"run", "--bundle", b.dir, "fgdel"});
  ASSERT_EQ(rt().wait_status("fgdel", "running"), "running");
  auto t0 = std::chrono::steady_clock::now();
  Result d =
      rt().run({"delete", "--force", "fgdel"}, RunOptions{.timeout = std::chrono::seconds(5)});
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(d.exit_code, 0) << d.describe();
  EXPECT_LT(took, std::chrono::seconds(3));
  Result r = p.wait();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.describe();
  EXPECT_TRUE(r.err.empty()) << r.describe();  // the run found the container gone, quietly
  EXPECT_TRUE(state_entries().empty());
  EXPECT_TRUE(wait_no_leftovers().empty());
}

TEST_P(Lifecycle, RunDetach) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  Result r = rt().run({"run", "--detach", "--bundle", b.dir, "bg"},
                      RunOptions{.timeout = std::chrono::seconds(10)});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  Json st = rt().state("bg");
  EXPECT_EQ(st.value("status", ""), "running") << st.dump();
  EXPECT_TRUE(pid_alive(st.value("pid", 0)));
  EXPECT_RUN_OK(rt().run({"kill", "bg", "KILL"}));
  EXPECT_EQ(rt().wait_status("bg", "stopped"), "stopped");
  EXPECT_RUN_OK(rt().run({"delete", "bg"}));
}

TEST_P(Lifecycle, PidFile) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  std::string pid_file = dir() + "/state-pid";  // the test dir is writable by the mode's user
  ASSERT_RUN_OK(create(b, "pidf", {"--pid-file", pid_file}));
  pid_t pid = rt().state("pidf").value("pid", 0);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(trim(read_file(pid_file)), std::to_string(pid));

  std::string run_pid_file = dir() + "/run-pid";
  Result r = rt().run({"run", "--detach", "--pid-file", run_pid_file, "--bundle", b.dir, "pidr"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(read_file(run_pid_file)), std::to_string(rt().state("pidr").value("pid", 0)));
}

TEST_P(Lifecycle, BundleAndConfigOptions) {
  if (is_runc()) GTEST_SKIP() << "runc has no --config option";
  Bundle b = make_bundle();
  b.config_name = "other.json";
  b.sh("echo from-other-config");
  b.save();
  // config.json stays the default (`sh` reading /dev/null), so only --config gives this output.
  // Run from another directory to check --bundle is honoured.
  Result r = rt().run({"run", "--bundle", b.dir, "--config", b.path("other.json"), "cfg"},
                      RunOptions{.cwd = "/"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "from-other-config\n");
  EXPECT_NE(rt().run({"state", "cfg"}).exit_code, 0) << "run must delete the container at exit";

  Result rel = rt().run({"run", "--config", "other.json", "cfg-rel"}, RunOptions{.cwd = b.dir});
  EXPECT_EQ(rel.exit_code, 0) << rel.describe();
  EXPECT_EQ(rel.out, "from-other-config\n");
}

TEST_P(Lifecycle, BundleDefaultsToCurrentDirectory) {
  Bundle b = make_bundle();
  b.sh("echo here");
  b.save();
  Result c = rt().run({"create", "cwd-bundle"}, RunOptions{.cwd = b.dir});
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  EXPECT_EQ(rt().state("cwd-bundle").value("bundle", ""), b.dir);
  ASSERT_RUN_OK(rt().run({"start", "cwd-bundle"}));
  EXPECT_EQ(wait_file_contains(c.out_path, "here"), "here\n");
}

TEST_P(Lifecycle, StateJson) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.config["annotations"] = {{"org.example.key", "value"}};
  b.save();
  ASSERT_RUN_OK(create(b, "st"));
  Result r = rt().run({"state", "st"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  Json st = Json::parse(r.out);
  ASSERT_TRUE(st.is_object());
  EXPECT_TRUE(st["ociVersion"].is_string() && !st["ociVersion"].get<std::string>().empty());
  EXPECT_EQ(st["id"], "st");
  EXPECT_TRUE(st["pid"].is_number_integer());
  EXPECT_EQ(st["status"], "created");
  EXPECT_EQ(st["bundle"], b.dir);
  ASSERT_TRUE(st.contains("annotations")) << st.dump();
  EXPECT_EQ(st["annotations"].value("org.example.key", ""), "value") << st.dump();
}

TEST_P(Lifecycle, List) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  Result empty = rt().run({"list", "-q"});
  EXPECT_EQ(empty.exit_code, 0) << empty.describe();
  EXPECT_EQ(trim(empty.out), "");

  ASSERT_RUN_OK(create(b, "l-one"));
  ASSERT_RUN_OK(create(b, "l-two"));
  ASSERT_RUN_OK(rt().run({"start", "l-two"}));
  pid_t pid_one = rt().state("l-one").value("pid", 0);

  Result table = rt().run({"list"});
  ASSERT_EQ(table.exit_code, 0) << table.describe();
  auto lines = split_lines(table.out);
  ASSERT_GE(lines.size(), 3u) << table.out;
  EXPECT_TRUE(
      std::regex_match(lines[0], std::regex(R"(ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\s*)")))
      << lines[0];
  bool seen_one = false, seen_two = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::istringstream is(lines[i]);
    std::string id, pid, status, bundle;
    is >> id >> pid >> status >> bundle;
    if (id == "l-one") {
      seen_one = true;
      EXPECT_EQ(pid, std::to_string(pid_one));
      EXPECT_EQ(status, "created");
      EXPECT_EQ(bundle, b.dir);
    } else if (id == "l-two") {
      seen_two = true;
      EXPECT_EQ(status, "running");
    }
  }
  EXPECT_TRUE(seen_one && seen_two) << table.out;

  Result quiet = rt().run({"list", "-q"});
  auto ids = split_lines(quiet.out);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            (std::set<std::string>{"l-one", "l-two"}))
      << quiet.out;

  Result js = rt().run({"list", "--format", "json"});
  ASSERT_EQ(js.exit_code, 0) << js.describe();
  Json arr = Json::parse(js.out);
  ASSERT_TRUE(arr.is_array()) << js.out;
  ASSERT_EQ(arr.size(), 2u) << js.out;
  for (const auto& c : arr) {
    std::string id = c.value("id", "");
    EXPECT_TRUE(id == "l-one" || id == "l-two") << c.dump();
    EXPECT_EQ(c.value("status", ""), id == "l-one" ? "created" : "running") << c.dump();
    EXPECT_EQ(c.value("bundle", ""), b.dir) << c.dump();
    EXPECT_GT(c.value("pid", 0), 0) << c.dump();
  }
}

TEST_P(Lifecycle, KillAll) {
  Bundle b = make_bundle();
  // Two children that survive a kill of the init alone would keep running.
  b.sh("sleep 1000 & sleep 1000 & echo ready; wait");
  b.save();
  Result c = create(b, "all");
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(rt().run({"start", "all"}));
  wait_file_contains(c.out_path, "ready");
  ASSERT_GE(leftover_processes().size(), 3u) << "sh and two sleeps expected";
  Result k = rt().run({"kill", "--all", "all", "KILL"});
  if (k.exit_code != 0 && is_runc() && rootless()) {
    GTEST_SKIP() << "runc rootless cannot kill --all without a writable cgroup: " << k.err;
  }
  ASSERT_EQ(k.exit_code, 0) << k.describe();
  EXPECT_EQ(rt().wait_status("all", "stopped"), "stopped");
  auto left = wait_no_leftovers();
  EXPECT_TRUE(left.empty()) << left.size() << " processes survived kill --all";
}

TEST_P(Lifecycle, KillDefaultSignalIsTerm) {
  Bundle b = make_bundle();
  b.sh("trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done");
  b.save();
  Result c = create(b, "term");
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(rt().run({"start", "term"}));
  wait_file_contains(c.out_path, "ready");
  Result k = rt().run({"kill", "term"});
  ASSERT_EQ(k.exit_code, 0) << k.describe();
  EXPECT_NE(wait_file_contains(c.out_path, "got-term").find("got-term"), std::string::npos);
  EXPECT_EQ(rt().wait_status("term", "stopped"), "stopped");
}

TEST_P(Lifecycle, RegexOnKillAndDelete) {
  if (is_runc()) GTEST_SKIP() << "runc has no --regex on kill/delete";
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  for (const char* id : {"re-a1", "re-a2", "re-b1"}) {
    ASSERT_RUN_OK(create(b, id));
    ASSERT_RUN_OK(rt().run({"start", id}));
  }
  // crun semantics: --regex makes the CONTAINER argument a regular expression.
  Result k = rt().run({"kill", "--regex", "^re-a", "KILL"});
  ASSERT_EQ(k.exit_code, 0) << k.describe();
  EXPECT_EQ(rt().wait_status("re-a1", "stopped"), "stopped");
  EXPECT_EQ(rt().wait_status("re-a2", "stopped"), "stopped");
  EXPECT_EQ(rt().status("re-b1"), "running");

  Result d = rt().run({"delete", "--regex", "^re-a"});
  ASSERT_EQ(d.exit_code, 0) << d.describe();
  EXPECT_EQ(rt().list_ids(), std::vector<std::string>{"re-b1"});
  Result df = rt().run({"delete", "--force", "--regex", "b1$"});
  ASSERT_EQ(df.exit_code, 0) << df.describe();
  EXPECT_TRUE(state_entries().empty());
}

TEST_P(Lifecycle, ManyContainersAreIndependent) {
  Bundle b = make_bundle();
  b.sh("echo $$; hostname");
  b.config["hostname"] = "h1";
  b.save();
  Result r1 = run_container(b, "ind-1");
  b.config["hostname"] = "h2";
  b.save();
  Result r2 = run_container(b, "ind-2");
  EXPECT_EQ(r1.out, "1\nh1\n") << r1.describe();
  EXPECT_EQ(r2.out, "1\nh2\n") << r2.describe();
}

// 50 `create` of one id at once: the state store lets exactly one win; the
// others fail with "already exists" and leave nothing of theirs behind.
TEST_P(Lifecycle, ParallelCreatesOfOneIdExactlyOneWins) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  std::vector<Proc> procs;
  for (int i = 0; i < 50; ++i) procs.push_back(rt().spawn({"create", "--bundle", b.dir, "same"}));
  int ok = 0, exists = 0;
  for (auto& p : procs) {
    Result r = p.wait();
    if (r.exit_code == 0) {
      ++ok;
    } else if (r.err.find("already exists") != std::string::npos || is_runc()) {
      ++exists;
    } else {
      ADD_FAILURE() << r.describe();
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(exists, 49);
  EXPECT_EQ(rt().status("same"), "created");
  EXPECT_EQ(rt().list_ids(), std::vector<std::string>{"same"});
  EXPECT_RUN_OK(rt().run({"delete", "--force", "same"}));
}

URUN_IT_INSTANTIATE(Lifecycle);

}  // namespace
}  // namespace urun_it
