// OCI hooks: each receives the container state on stdin.
#include "harness.hpp"

namespace urun_it {
namespace {

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
};

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
}

TEST_P(Hooks, FailingCreateRuntimeFailsRun) {
  Bundle b = make_bundle();
  b.sh("echo should-not-run");
  b.config["hooks"]["createRuntime"] =
      Json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 2"}}}});
  b.save();
  Result r = run_container(b, "badhook2");
  EXPECT_EQ(r.out.find("should-not-run"), std::string::npos) << r.describe();
  expect_clean_failure(r, "hook");
}

URUN_IT_INSTANTIATE(Hooks);

}  // namespace
}  // namespace urun_it
