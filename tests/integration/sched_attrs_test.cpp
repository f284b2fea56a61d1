// runtime-spec 1.3's process.scheduler, process.ioPriority, process.execCPUAffinity,
// linux.personality and linux.memoryPolicy, checked from inside the container for the init and
// for exec'd processes: /proc/self/stat (nice, rt_priority, policy), busybox's ionice,
// /proc/self/status (Cpus_allowed_list), uname -m and /proc/self/numa_maps. Invalid values fail
// create with one line, before anything is made; what the kernel refuses the user (realtime
// policies rootless, a node the host lacks) is one clear line too. Also: a config of ociVersion
// 1.3.0 runs and the state reports 1.3.0.
#include <sys/utsname.h>
#include <unistd.h>

#include <iterator>
#include <sstream>

#include "harness.hpp"

namespace urun_it {
namespace {

// nice, rt_priority and policy of the process reading it (fields 19, 40 and 41; the comm of
// awk has no space).
constexpr const char* kStat = "awk '{print $19, $40, $41}' /proc/self/stat";

class SchedAttrs : public IntegrationTest {
 protected:
  // Runs `script` under sh in a fresh container of `b` and returns the result.
  Result run_sh(Bundle& b, const std::string& script) {
    b.sh(script);
    b.save();
    const std::string id = "s" + std::to_string(++n_);
    Result r = run_container(b, id);
    rt().run({"delete", "--force", id});
    return r;
  }
  // Started container `id` running sleep.
  void start_sleeper(Bundle& b, const std::string& id) {
    b.set_args({"sleep", "1000"});
    b.save();
    Result c = create(b, id);
    ASSERT_EQ(c.exit_code, 0) << c.describe();
    ASSERT_RUN_OK(rt().run({"start", id}));
  }
  Result exec_sh(const std::string& id, const std::string& script) {
    return rt().run({"exec", id, "sh", "-c", script});
  }
  // `exec --process FILE id` with the container's process patched by `patch` (merge-patch).
  Result exec_process(const Bundle& b, const std::string& id, const Json& patch) {
    Json p = b.config["process"];
    p.merge_patch(patch);
    const std::string file = b.path("process-" + std::to_string(++n_) + ".json");
    write_file(file, p.dump());
    EXPECT_EQ(::chown(file.c_str(), identity().uid, identity().gid), 0);
    return rt().run({"exec", "--process", file, id});
  }
  // Create fails with one line naming `what`, and leaves nothing behind.
  void expect_create_fails(Bundle& b, const std::string& what) {
    b.set_args({"true"});
    b.save();
    Result r = create(b, "bad");
    expect_clean_failure(r, what);
  }

 private:
  int n_ = 0;
};

// ---------------------------------------------------------------------------------------------
// ociVersion

TEST_P(SchedAttrs, OciVersion13RunsAndTheStateSays13) {
  Bundle b = make_bundle();
  for (const char* v : {"1.3.0", "1.0.2", "1.4.0"}) {
    b.config["ociVersion"] = v;
    Result r = run_sh(b, "echo ran");
    EXPECT_EQ(r.exit_code, 0) << v << "\n" << r.describe();
    EXPECT_EQ(trim(r.out), "ran") << v;
  }
  b.config["ociVersion"] = "1.0.2";
  start_sleeper(b, "v");
  Json st = rt().state("v");
  EXPECT_EQ(st["ociVersion"], "1.3.0") << st.dump();
  ASSERT_RUN_OK(rt().run({"delete", "--force", "v"}));

  Result spec = rt().run({"spec", "--bundle", make_host_dir("spec")});
  ASSERT_EQ(spec.exit_code, 0) << spec.describe();
  EXPECT_EQ(Json::parse(read_file(dir() + "/spec/config.json"))["ociVersion"], "1.3.0");
}

TEST_P(SchedAttrs, OciVersion2OrGarbageIsRefused) {
  int n = 0;
  for (const char* v : {"2.0.0", "1.3", "garbage"}) {
    Bundle b = make_bundle({.name = "b" + std::to_string(++n)});
    b.config["ociVersion"] = v;
    expect_create_fails(b, std::string("unsupported version `") + v + "`");
  }
}

// ---------------------------------------------------------------------------------------------
// process.scheduler

// nice 19: never below the caller's own (raising priority needs CAP_SYS_NICE; tests may run
// under `nice`).
TEST_P(SchedAttrs, SchedulerAppliesToTheInitAndExec) {
  Bundle b = make_bundle();
  b.config["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 19}};
  Result r = run_sh(b, kStat);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "19 0 3") << "nice 19, SCHED_BATCH (3)";

  start_sleeper(b, "c");
  // exec runs the config's process, scheduler included, as runc does.
  Result e = exec_sh("c", kStat);
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_EQ(trim(e.out), "19 0 3");
  // --process brings its own (SCHED_IDLE keeps the nice it had: only its policy is checked).
  Result p = exec_process(b, "c",
                          {{"args", {"sh", "-c", "awk '{print $41}' /proc/self/stat"}},
                           {"scheduler", {{"policy", "SCHED_IDLE"}, {"nice", nullptr}}}});
  ASSERT_EQ(p.exit_code, 0) << p.describe();
  EXPECT_EQ(trim(p.out), "5") << "SCHED_IDLE (5)";
  Result bad = exec_process(b, "c", {{"scheduler", {{"policy", "SCHED_FAST"}}}});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("unknown policy `SCHED_FAST`"), std::string::npos) << bad.describe();
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c"}));
}

// SCHED_FLAG_RESET_ON_FORK resets a negative nice (and realtime policies) in children. A negative
// nice needs CAP_SYS_NICE on the host: rootless, that is one clear line.
TEST_P(SchedAttrs, ResetOnForkLeavesChildrenToTheDefault) {
  Bundle b = make_bundle();
  b.config["process"]["scheduler"] = {
      {"policy", "SCHED_OTHER"}, {"nice", -5}, {"flags", {"SCHED_FLAG_RESET_ON_FORK"}}};
  if (rootless()) {
    expect_create_fails(b, "set scheduler `SCHED_OTHER`: Operation not permitted (a negative nice");
    return;
  }
  // The shell (pid 1 of its pid namespace) has the nice; awk, its child, does not (`true` last,
  // or sh would exec the second awk in its own place).
  Result r = run_sh(b, "awk '{print $19}' /proc/1/stat; awk '{print $19}' /proc/self/stat; true");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(split_lines(r.out), (std::vector<std::string>{"-5", "0"}));
}

TEST_P(SchedAttrs, InvalidSchedulersFailBeforeAnythingIsMade) {
  struct Case {
    Json scheduler;
    std::string what;
  };
  const Case cases[] = {
      {{{"policy", "SCHED_BOGUS"}}, "process.scheduler.policy: unknown policy `SCHED_BOGUS`"},
      {{{"policy", "SCHED_OTHER"}, {"flags", {"SCHED_FLAG_NOPE"}}},
       "unknown flag `SCHED_FLAG_NOPE`"},
      {{{"policy", "SCHED_FIFO"}}, "SCHED_FIFO needs a priority between 1 and 99"},
      {{{"policy", "SCHED_OTHER"}, {"nice", 40}}, "must be between -20 and 19"},
      {{{"policy", "SCHED_DEADLINE"}, {"runtime", 20000000}, {"deadline", 10000000}},
       "SCHED_DEADLINE runtime 20000000 must not exceed deadline 10000000"},
      {{{"policy", "SCHED_DEADLINE"},
        {"runtime", 1000000},
        {"deadline", 10000000},
        {"period", 5000000}},
       "SCHED_DEADLINE deadline 10000000 must not exceed period 5000000"},
      {{{"policy", "SCHED_DEADLINE"}, {"deadline", 10000000}}, "SCHED_DEADLINE needs a runtime"},
  };
  int n = 0;
  for (const auto& c : cases) {
    Bundle b = make_bundle({.name = "b" + std::to_string(++n)});
    b.config["process"]["scheduler"] = c.scheduler;
    expect_create_fails(b, c.what);
  }
}

// Realtime and deadline policies need CAP_SYS_NICE on the host: the rootless user gets one
// clear line; root gets the policy (a deadline task cannot fork, so the init execs cat).
TEST_P(SchedAttrs, DeadlinePolicy) {
  Bundle b = make_bundle();
  b.config["process"]["scheduler"] = {{"policy", "SCHED_DEADLINE"},
                                      {"runtime", 1000000},
                                      {"deadline", 10000000},
                                      {"period", 10000000}};
  if (rootless()) {
    expect_create_fails(b, "set scheduler `SCHED_DEADLINE`: Operation not permitted");
    return;
  }
  b.set_args({"cat", "/proc/self/stat"});
  b.save();
  Result r = run_container(b, "dl");
  rt().run({"delete", "--force", "dl"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::istringstream fields(r.out);
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  ASSERT_GE(f.size(), 41u) << r.out;
  EXPECT_EQ(f[40], "6") << "SCHED_DEADLINE (6)";
}

TEST_P(SchedAttrs, RealtimePolicyWithoutCapabilityOrBudgetIsOneClearLine) {
  Bundle b = make_bundle();
  b.config["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}, {"priority", 10}};
  if (rootless()) {
    expect_create_fails(b, "set scheduler `SCHED_FIFO`: Operation not permitted");
    return;
  }
  // Root: a container cgroup without a realtime budget, on a kernel with realtime group
  // scheduling, is refused with the knob named; without it, the policy applies.
  const bool rt_group_sched = path_exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us") ||
                              path_exists("/sys/fs/cgroup/cpu,cpuacct/cpu.rt_runtime_us");
  if (!rt_group_sched) {
    Result r = run_sh(b, kStat);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(trim(r.out), "0 10 1") << "SCHED_FIFO (1) at 10";
    return;
  }
  b.config["linux"]["cgroupsPath"] = "/urun-it-fifo-" + std::to_string(::getpid());
  b.set_args({"true"});
  b.save();
  Result r = create(b, "fifo");
  expect_clean_failure(r, "linux.resources.cpu.realtimeRuntime");
  EXPECT_NE(r.err.find("set scheduler `SCHED_FIFO`: Operation not permitted"), std::string::npos)
      << r.describe();
  for (const char* h : {"cpu", "cpu,cpuacct", "memory", "pids"})
    EXPECT_FALSE(path_exists(std::string("/sys/fs/cgroup/") + h + "/urun-it-fifo-" +
                             std::to_string(::getpid())))
        << h;
}

// ---------------------------------------------------------------------------------------------
// process.ioPriority

TEST_P(SchedAttrs, IoPriorityAppliesToTheInitAndExec) {
  Bundle b = make_bundle();
  b.config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 4}};
  Result r = run_sh(b, "ionice -p $$");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "idle") << "busybox prints no level for the idle class";

  b.config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 2}};
  start_sleeper(b, "c");
  Result e = exec_sh("c", "ionice -p $$");
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_EQ(trim(e.out), "best-effort: prio 2");
  Result p = exec_process(b, "c",
                          {{"args", {"sh", "-c", "ionice -p $$"}},
                           {"ioPriority", {{"class", "IOPRIO_CLASS_BE"}, {"priority", 6}}}});
  ASSERT_EQ(p.exit_code, 0) << p.describe();
  EXPECT_EQ(trim(p.out), "best-effort: prio 6");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c"}));
}

TEST_P(SchedAttrs, IoPriorityRealtimeAndInvalidValues) {
  Bundle b = make_bundle();
  b.config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_RT"}, {"priority", 1}};
  if (rootless()) {
    expect_create_fails(b, "set I/O priority `IOPRIO_CLASS_RT 1`: Operation not permitted");
  } else {
    Result r = run_sh(b, "ionice -p $$");
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(trim(r.out), "realtime: prio 1");
  }
  b.config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 9}};
  expect_create_fails(b, "process.ioPriority.priority: must be between 0 and 7, got 9");
  b.config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_FAST"}, {"priority", 1}};
  expect_create_fails(b, "unknown class `IOPRIO_CLASS_FAST`");
}

// ---------------------------------------------------------------------------------------------
// process.execCPUAffinity (exec only: runtime-spec says it does not apply to the init)

TEST_P(SchedAttrs, ExecCpuAffinity) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two online CPUs";
  Bundle b = make_bundle();
  b.config["process"]["execCPUAffinity"] = {{"initial", "0"}, {"final", "1"}};
  start_sleeper(b, "c");
  const std::string read = "grep Cpus_allowed_list /proc/self/status | cut -f2";
  Result e = exec_sh("c", read);
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_EQ(trim(e.out), "1");
  Result p =
      exec_process(b, "c", {{"args", {"sh", "-c", read}}, {"execCPUAffinity", {{"final", "0-1"}}}});
  ASSERT_EQ(p.exit_code, 0) << p.describe();
  EXPECT_EQ(trim(p.out), "0-1");
  p = exec_process(b, "c", {{"args", {"sh", "-c", read}}, {"execCPUAffinity", {{"final", "0"}}}});
  ASSERT_EQ(p.exit_code, 0) << p.describe();
  EXPECT_EQ(trim(p.out), "0");
  // A list that does not parse, and CPUs that are not there: one line, nothing run.
  Result bad = exec_process(
      b, "c", {{"args", {"sh", "-c", "echo ran"}}, {"execCPUAffinity", {{"final", "0-"}}}});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(bad.out.find("ran"), std::string::npos);
  EXPECT_NE(bad.err.find("execCPUAffinity.final: cannot parse list `0-`"), std::string::npos)
      << bad.describe();
  bad = exec_process(
      b, "c", {{"args", {"sh", "-c", "echo ran"}}, {"execCPUAffinity", {{"initial", "4000"}}}});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(bad.out.find("ran"), std::string::npos);
  EXPECT_NE(bad.err.find("set initial CPU affinity `4000`: Invalid argument"), std::string::npos)
      << bad.describe();
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c"}));

  Bundle invalid = make_bundle({.name = "invalid"});
  invalid.config["process"]["execCPUAffinity"] = {{"initial", "3-1"}};
  expect_create_fails(invalid, "process.execCPUAffinity.initial: cannot parse list `3-1`");
}

// ---------------------------------------------------------------------------------------------
// linux.personality

TEST_P(SchedAttrs, PersonalityLinux32) {
  utsname host{};
  ::uname(&host);
  if (std::string(host.machine) != "x86_64") GTEST_SKIP() << "LINUX32 is checked on x86_64";
  Bundle b = make_bundle();
  b.config["linux"]["personality"] = {{"domain", "LINUX32"}};
  Result r = run_sh(b, "uname -m");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "i686");
  start_sleeper(b, "c");
  Result e = exec_sh("c", "uname -m");
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  EXPECT_EQ(trim(e.out), "i686");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c"}));

  b.config["linux"]["personality"] = {{"domain", "LINUX"}};
  r = run_sh(b, "uname -m");
  EXPECT_EQ(trim(r.out), "x86_64") << r.describe();
}

TEST_P(SchedAttrs, PersonalityUnknownDomainOrFlag) {
  Bundle b = make_bundle();
  b.config["linux"]["personality"] = {{"domain", "SVR4"}};
  expect_create_fails(b, "linux.personality.domain: unknown domain `SVR4`");
  b.config["linux"]["personality"] = {{"domain", "LINUX"}, {"flags", {"ADDR_NO_RANDOMIZE"}}};
  expect_create_fails(b, "unknown flag `ADDR_NO_RANDOMIZE`");
}

// ---------------------------------------------------------------------------------------------
// linux.memoryPolicy: this host may have one NUMA node; node 0 is what every mode can use.

// The lines of the reading process's (sed's) /proc/self/numa_maps that show policy `want` (as
// mpol_to_str prints it), and those that do not: "N 0" when all do. A mapping without pages
// ends with the policy: each line gets a trailing space.
std::string numa_maps_count(const std::string& want) {
  const std::string pattern = "' " + want + " '";
  return "m=$(sed 's/$/ /' /proc/self/numa_maps); echo $(echo \"$m\" | grep -c -F " + pattern +
         ") $(echo \"$m\" | grep -c -v -F " + pattern + ")";
}

TEST_P(SchedAttrs, MemoryPolicyShowsInNumaMaps) {
  if (!path_exists("/proc/self/numa_maps")) GTEST_SKIP() << "a kernel without NUMA";
  struct Case {
    Json policy;
    std::string want;
  };
  const Case cases[] = {
      {{{"mode", "MPOL_BIND"}, {"nodes", "0"}}, "bind:0"},
      {{{"mode", "MPOL_INTERLEAVE"}, {"nodes", "0"}}, "interleave:0"},
      {{{"mode", "MPOL_PREFERRED"}, {"nodes", "0"}}, "prefer:0"},
      {{{"mode", "MPOL_PREFERRED_MANY"}, {"nodes", "0"}}, "prefer (many):0"},
      {{{"mode", "MPOL_WEIGHTED_INTERLEAVE"}, {"nodes", "0"}}, "weighted interleave:0"},
      {{{"mode", "MPOL_BIND"}, {"nodes", "0"}, {"flags", {"MPOL_F_STATIC_NODES"}}},
       "bind=static:0"},
      {{{"mode", "MPOL_BIND"}, {"nodes", "0"}, {"flags", {"MPOL_F_NUMA_BALANCING"}}},
       "bind=balancing:0"},
      {{{"mode", "MPOL_LOCAL"}}, "local"},
      {{{"mode", "MPOL_DEFAULT"}}, "default"},
  };
  int n = 0;
  for (const auto& c : cases) {
    Bundle b = make_bundle({.name = "b" + std::to_string(++n)});
    b.config["linux"]["memoryPolicy"] = c.policy;
    Result r = run_sh(b, numa_maps_count(c.want));
    ASSERT_EQ(r.exit_code, 0) << c.policy.dump() << "\n" << r.describe();
    std::istringstream counts(r.out);
    int with = 0, without = -1;
    counts >> with >> without;
    EXPECT_GT(with, 0) << c.policy.dump() << ": " << r.out;
    EXPECT_EQ(without, 0) << c.policy.dump() << ": " << r.out;
  }
  // exec'd processes get the container's too.
  Bundle b = make_bundle({.name = "exec"});
  b.config["linux"]["memoryPolicy"] = {{"mode", "MPOL_INTERLEAVE"}, {"nodes", "0"}};
  start_sleeper(b, "c");
  Result e = exec_sh("c", numa_maps_count("interleave:0"));
  ASSERT_EQ(e.exit_code, 0) << e.describe();
  std::istringstream counts(e.out);
  int with = 0, without = -1;
  counts >> with >> without;
  EXPECT_GT(with, 0) << e.out;
  EXPECT_EQ(without, 0) << e.out;
  ASSERT_RUN_OK(rt().run({"delete", "--force", "c"}));
}

TEST_P(SchedAttrs, MemoryPolicyErrors) {
  struct Case {
    Json policy;
    std::string what;
  };
  // Refused while the config is read...
  const Case invalid[] = {
      {{{"mode", "MPOL_FASTEST"}}, "linux.memoryPolicy.mode: unknown mode `MPOL_FASTEST`"},
      {{{"mode", "MPOL_BIND"}}, "MPOL_BIND needs at least one node"},
      {{{"mode", "MPOL_LOCAL"}, {"nodes", "0"}}, "MPOL_LOCAL takes no nodes"},
      {{{"mode", "MPOL_BIND"},
        {"nodes", "0"},
        {"flags", {"MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"}}},
       "exclude each other"},
      {{{"mode", "MPOL_INTERLEAVE"}, {"nodes", "0"}, {"flags", {"MPOL_F_NUMA_BALANCING"}}},
       "MPOL_F_NUMA_BALANCING works only with MPOL_BIND"},
      {{{"mode", "MPOL_BIND"}, {"nodes", "0-"}}, "linux.memoryPolicy.nodes: cannot parse list"},
  };
  int n = 0;
  for (const auto& c : invalid) {
    Bundle b = make_bundle({.name = "b" + std::to_string(++n)});
    b.config["linux"]["memoryPolicy"] = c.policy;
    expect_create_fails(b, c.what);
  }
  // ... and by the kernel: a node this host does not have.
  if (path_exists("/sys/devices/system/node/node4000")) GTEST_SKIP() << "the host has node 4000";
  Bundle b = make_bundle({.name = "node4000"});
  b.config["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"nodes", "4000"}};
  expect_create_fails(b, "set memory policy `MPOL_BIND` on nodes `4000`: Invalid argument");
}

URUN_IT_INSTANTIATE(SchedAttrs);

}  // namespace
}  // namespace urun_it
