// OCI hooks: each receives the container state on stdin. What each kind sees and what its
// failure does follows runtime-spec 1.3 (runtime.md, "Lifecycle"): prestart, createRuntime,
// createContainer and startContainer see "created", poststart "running", poststop
// "stopped"; a failing poststart hook fails start and run and takes the container with it; a
// failing poststop hook is a warning and the next one still runs.
#include <unistd.h>

#include <algorithm>
#include <map>

#include "harness.hpp"

namespace urun_it {
namespace {

// The host directories of the cgroups pid is in that the test process is not in: the
// container's own (none rootless on a host that delegates no cgroup to the user).
std::vector<std::string> own_cgroup_dirs(pid_t pid) {
  auto parse = [](const std::string& text) {
    std::map<std::string, std::string> out;  // hierarchy's controllers -> path
    for (const auto& line : split_lines(text)) {
      size_t a = line.find(':');
      size_t b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
    }
    return out;
  };
  const bool unified_host = path_exists("/sys/fs/cgroup/cgroup.controllers");
  auto mine = parse(read_file("/proc/self/cgroup"));
  std::vector<std::string> dirs;
  for (const auto& [ctrls, path] : parse(read_file("/proc/" + std::to_string(pid) + "/cgroup"))) {
    if (mine[ctrls] == path) continue;
    std::string mount = unified_host                 ? ""
                        : ctrls.empty()              ? "/unified"
                        : ctrls.starts_with("name=") ? "/" + ctrls.substr(5)
                                                     : "/" + ctrls;
    if (path_exists("/sys/fs/cgroup" + mount)) dirs.push_back("/sys/fs/cgroup" + mount + path);
  }
  return dirs;
}

class Hooks : public IntegrationTest {
 protected:
  // A hook that saves its stdin (the state) to `file`, plus its argv[1] to show args are passed.
  static Json saving_hook(const std::string& file) {
    return {{"path", "/bin/sh"},
            {"args", {"sh", "-c", "cat > \"$1\"", "sh", file}},
            {"env", {"HOOK_ENV=1"}},
            {"timeout", 10}};
  }
  static Json parse_or_null(const std::string& text) {
    try {
      return Json::parse(text);
    } catch (const std::exception&) {
      return nullptr;
    }
  }
  static Json failing_hook(int status) {
    return {{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit " + std::to_string(status)}}};
  }
  // Checks the state a poststop hook saved in `file`.
  void expect_poststop_ran(const Bundle& b, const std::string& file, const std::string& id) {
    Json st = parse_or_null(read_file(b.path(file)));
    ASSERT_TRUE(st.is_object()) << file << ": the poststop hook did not run";
    EXPECT_EQ(st.value("id", ""), id) << st.dump();
    EXPECT_EQ(st.value("status", ""), "stopped") << st.dump();
  }
  // Everything of the container is gone: state, processes (the init and the child it
  // forked), cgroups.
  void expect_container_gone(const std::string& id, const std::vector<pid_t>& pids,
                             const std::vector<std::string>& cgroups) {
    EXPECT_NE(rt().run({"state", id}).exit_code, 0) << "the container is still known";
    EXPECT_TRUE(state_entries().empty());
    for (pid_t pid : pids) EXPECT_FALSE(pid_alive(pid)) << "process " << pid << " survived";
    for (const auto& d : cgroups) EXPECT_FALSE(path_exists(d)) << "cgroup left behind: " << d;
    EXPECT_TRUE(wait_no_leftovers().empty());
  }
};

// Every hook kind gets the state with the status runtime-spec 1.3 gives its lifecycle step.
// createContainer and startContainer run in the container's namespaces: the first before
// pivot_root (the bundle is still reachable), the second in the container (it writes to a
// directory mounted there).
TEST_P(Hooks, EachKindSeesTheStatusOfItsLifecycleStep) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  const std::string out = make_host_dir("hookout", 0777);
  b.add_mount(
      {{"destination", "/mnt"}, {"type", "bind"}, {"source", out}, {"options", {"rbind", "rw"}}});
  for (const char* stage :
       {"prestart", "createRuntime", "createContainer", "poststart", "poststop"})
    b.config["hooks"][stage] = Json::array({saving_hook(out + "/" + stage + ".json")});
  b.config["hooks"]["startContainer"] = Json::array(
      {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /mnt/startContainer.json"}}}});
  b.save();

  ASSERT_RUN_OK(create(b, "states"));
  const pid_t pid = rt().state("states").value("pid", 0);
  ASSERT_GT(pid, 0);
  ASSERT_RUN_OK(rt().run({"start", "states"}));
  wait_file_contains(out + "/startContainer.json", "}");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "states"}));

  const std::map<std::string, std::string> want = {
      {"prestart", "created"},       {"createRuntime", "created"}, {"createContainer", "created"},
      {"startContainer", "created"}, {"poststart", "running"},     {"poststop", "stopped"}};
  for (const auto& [stage, status] : want) {
    SCOPED_TRACE(stage);
    Json st = parse_or_null(read_file(out + "/" + stage + ".json"));
    ASSERT_TRUE(st.is_object()) << "the hook did not run or got no JSON state on stdin";
    EXPECT_EQ(st.value("id", ""), "states") << st.dump();
    EXPECT_EQ(st.value("status", ""), status) << st.dump();
    EXPECT_EQ(st.value("bundle", ""), b.dir) << st.dump();
  }
  // Hooks in the runtime namespace see the init's host pid.
  for (const char* stage : {"prestart", "createRuntime", "poststart"})
    EXPECT_EQ(parse_or_null(read_file(out + "/" + stage + ".json")).value("pid", 0), pid) << stage;
  EXPECT_TRUE(wait_no_leftovers().empty());
}

// A failing poststart hook fails `start` (runtime-spec 1.3, crun 1.27): the container is
// killed and deleted (no process, no state, no cgroup) and its poststop hooks run.
TEST_P(Hooks, FailingPoststartFailsStartAndRemovesTheContainer) {
  Bundle b = make_bundle();
  b.sh("sleep 1000 & exec sleep 1001");
  b.config["hooks"]["poststart"] = Json::array({failing_hook(3)});
  b.config["hooks"]["poststop"] = Json::array({saving_hook(b.path("poststop.json"))});
  b.save();
  ASSERT_RUN_OK(create(b, "post-fail"));
  const pid_t pid = rt().state("post-fail").value("pid", 0);
  ASSERT_GT(pid, 0);
  const std::vector<std::string> cgroups = own_cgroup_dirs(pid);
  if (!rootless()) {
    EXPECT_FALSE(cgroups.empty()) << "a root container has its own cgroup";
  }

  Result s = rt().run({"start", "post-fail"});
  expect_clean_failure(s, "poststart");
  if (!is_runc()) {
    EXPECT_NE(s.err.find("exited with status 3"), std::string::npos) << s.describe();
  }
  expect_container_gone("post-fail", {pid}, cgroups);
  expect_poststop_ran(b, "poststop.json", "post-fail");
}

// The same through `run`, in the foreground and detached.
TEST_P(Hooks, FailingPoststartFailsRunAndRemovesTheContainer) {
  for (bool detach : {false, true}) {
    SCOPED_TRACE(detach ? "run --detach" : "run");
    Bundle b = make_bundle({.name = detach ? "detached" : "foreground"});
    b.sh("sleep 1000 & exec sleep 1001");
    b.config["hooks"]["poststart"] = Json::array({failing_hook(4)});
    b.config["hooks"]["poststop"] = Json::array({saving_hook(b.path("poststop.json"))});
    b.save();
    const std::string id = detach ? "run-d-fail" : "run-fail";
    std::vector<std::string> args = {"run", "--bundle", b.dir};
    if (detach) args.push_back("--detach");
    args.push_back(id);
    Result r = rt().run(args);
    expect_clean_failure(r, "poststart");
    expect_container_gone(id, {}, {});
    expect_poststop_ran(b, "poststop.json", id);
  }
}

// A failing poststop hook is a warning: delete succeeds and the next poststop hook runs.
TEST_P(Hooks, FailingPoststopWarnsAndTheNextOneRuns) {
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.config["hooks"]["poststop"] =
      Json::array({failing_hook(5), saving_hook(b.path("second.json")), failing_hook(6),
                   saving_hook(b.path("fourth.json"))});
  b.save();
  ASSERT_RUN_OK(create(b, "stop-warn"));
  ASSERT_RUN_OK(rt().run({"start", "stop-warn"}));
  ASSERT_EQ(rt().wait_status("stop-warn", "stopped"), "stopped");
  Result d = rt().run({"delete", "stop-warn"});
  ASSERT_EQ(d.exit_code, 0) << d.describe();
  if (!is_runc()) {
    EXPECT_NE(d.err.find("exited with status 5"), std::string::npos) << d.describe();
    EXPECT_NE(d.err.find("exited with status 6"), std::string::npos) << d.describe();
    EXPECT_NE(d.err.find("warning"), std::string::npos) << d.describe();
  }
  expect_poststop_ran(b, "second.json", "stop-warn");
  expect_poststop_ran(b, "fourth.json", "stop-warn");
  EXPECT_TRUE(state_entries().empty());

  // At the end of a foreground run too.
  Result r = run_container(b, "stop-warn-run");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  if (!is_runc()) {
    EXPECT_NE(r.err.find("exited with status 6"), std::string::npos) << r.describe();
  }
  expect_poststop_ran(b, "fourth.json", "stop-warn-run");
  EXPECT_TRUE(state_entries().empty());
}

// A failing startContainer hook stops the container before its process runs; `run` fails and
// the poststop hooks run.
TEST_P(Hooks, FailingStartContainerFailsRun) {
  Bundle b = make_bundle();
  b.sh("echo should-not-run");
  b.config["hooks"]["startContainer"] = Json::array({failing_hook(7)});
  b.config["hooks"]["poststop"] = Json::array({saving_hook(b.path("poststop.json"))});
  b.save();
  Result r = run_container(b, "start-fail");
  EXPECT_EQ(r.out.find("should-not-run"), std::string::npos) << r.describe();
  expect_clean_failure(r, "startContainer");
  expect_poststop_ran(b, "poststop.json", "start-fail");
}

TEST_P(Hooks, AllStagesReceiveState) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  for (const char* stage : {"prestart", "createRuntime", "poststart", "poststop"}) {
    b.config["hooks"][stage] = Json::array({saving_hook(b.path(std::string(stage) + ".json"))});
  }
  b.save();

  Result c = create(b, "hooked");
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  pid_t pid = rt().state("hooked").value("pid", 0);
  for (const char* stage : {"prestart", "createRuntime"}) {
    SCOPED_TRACE(stage);
    Json st = parse_or_null(read_file(b.path(std::string(stage) + ".json")));
    ASSERT_TRUE(st.is_object()) << "hook did not run or got no JSON state on stdin";
    EXPECT_EQ(st.value("id", ""), "hooked") << st.dump();
    EXPECT_EQ(st.value("pid", 0), pid) << st.dump();
    EXPECT_EQ(st.value("bundle", ""), b.dir) << st.dump();
  }
  // runc 1.1 runs poststart hooks at create (fixed in runc 1.2); the spec says after start.
  if (!is_runc()) {
    EXPECT_FALSE(path_exists(b.path("poststart.json"))) << "poststart ran before start";
  }

  ASSERT_RUN_OK(rt().run({"start", "hooked"}));
  // Poststart hooks run before `start` returns.
  Json post = parse_or_null(read_file(b.path("poststart.json")));
  ASSERT_TRUE(post.is_object()) << "poststart did not run before start returned";
  EXPECT_EQ(post.value("id", ""), "hooked");
  EXPECT_FALSE(path_exists(b.path("poststop.json")));

  ASSERT_RUN_OK(rt().run({"kill", "hooked", "KILL"}));
  EXPECT_EQ(rt().wait_status("hooked", "stopped"), "stopped");
  ASSERT_RUN_OK(rt().run({"delete", "hooked"}));
  Json stop = parse_or_null(read_file(b.path("poststop.json")));
  ASSERT_TRUE(stop.is_object()) << "poststop did not run at delete";
  EXPECT_EQ(stop.value("id", ""), "hooked");
}

TEST_P(Hooks, HookEnvAndArgs) {
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.config["hooks"]["createRuntime"] = Json::array(
      {{{"path", "/bin/sh"},
        {"args", {"sh", "-c", "echo \"$0 $1 $HOOK_VAR\" > \"$1\"", "arg0", b.path("out")}},
        {"env", {"HOOK_VAR=hook-value"}}}});
  b.save();
  Result r = run_container(b, "hookenv");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(read_file(b.path("out")), "arg0 " + b.path("out") + " hook-value\n");
}

TEST_P(Hooks, FailingPrestartFailsCreate) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.config["hooks"]["prestart"] =
      Json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 1"}}}});
  b.config["hooks"]["poststop"] = Json::array({saving_hook(b.path("poststop.json"))});
  b.save();
  Result r = create(b, "badhook");
  expect_clean_failure(r, "hook");
  EXPECT_NE(rt().run({"state", "badhook"}).exit_code, 0);
  // The lifecycle goes on at its step 12: the container is destroyed, the poststop hooks run.
  expect_poststop_ran(b, "poststop.json", "badhook");
}

TEST_P(Hooks, FailingCreateRuntimeFailsRun) {
  Bundle b = make_bundle();
  b.sh("echo should-not-run");
  b.config["hooks"]["createRuntime"] =
      Json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 2"}}}});
  b.save();
  b.config["hooks"]["poststop"] = Json::array({saving_hook(b.path("poststop.json"))});
  b.save();
  Result r = run_container(b, "badhook2");
  EXPECT_EQ(r.out.find("should-not-run"), std::string::npos) << r.describe();
  expect_clean_failure(r, "hook");
  expect_poststop_ran(b, "poststop.json", "badhook2");
}

TEST_P(Hooks, FailingCreateContainerFailsCreate) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.config["hooks"]["createContainer"] = Json::array({failing_hook(8)});
  b.config["hooks"]["poststop"] = Json::array({saving_hook(b.path("poststop.json"))});
  b.save();
  Result r = create(b, "badhook3");
  expect_clean_failure(r, "createContainer");
  expect_poststop_ran(b, "poststop.json", "badhook3");
}

URUN_IT_INSTANTIATE(Hooks);

}  // namespace
}  // namespace urun_it
