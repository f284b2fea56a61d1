// linux.seccomp -> BPF: the translation tables, the errors (with their JSON
// path), unknown syscall names, and what a compiled program does once loaded
// (in a forked child, with no_new_privs so no privilege is needed).
#include "linux/seccomp/seccomp.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"
#include "in_child.hpp"

namespace urun::linux {
namespace {

using Json = nlohmann::json;

std::string compile_error(const Json& profile, const SeccompOptions& options = {}) {
  try {
    compile_seccomp(profile, options);
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

// Loads `program` in a child and returns body()'s result from there.
template <typename F>
int with_filter(const SeccompProgram& program, F body) {
  return urun_test::in_child([&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return 90;
    load_seccomp(program);
    return body();
  });
}

TEST(SeccompTranslate, Actions) {
  const std::string p = "x.action";
  EXPECT_EQ(seccomp_action("SCMP_ACT_ALLOW", std::nullopt, p), SCMP_ACT_ALLOW);
  EXPECT_EQ(seccomp_action("SCMP_ACT_KILL", std::nullopt, p), SCMP_ACT_KILL_THREAD);
  EXPECT_EQ(seccomp_action("SCMP_ACT_KILL_THREAD", std::nullopt, p), SCMP_ACT_KILL_THREAD);
  EXPECT_EQ(seccomp_action("SCMP_ACT_KILL_PROCESS", std::nullopt, p), SCMP_ACT_KILL_PROCESS);
  EXPECT_EQ(seccomp_action("SCMP_ACT_TRAP", std::nullopt, p), SCMP_ACT_TRAP);
  EXPECT_EQ(seccomp_action("SCMP_ACT_LOG", std::nullopt, p), SCMP_ACT_LOG);
  EXPECT_EQ(seccomp_action("SCMP_ACT_NOTIFY", std::nullopt, p), SCMP_ACT_NOTIFY);
  // ERRNO and TRACE default to EPERM and take errnoRet.
  EXPECT_EQ(seccomp_action("SCMP_ACT_ERRNO", std::nullopt, p), SCMP_ACT_ERRNO(EPERM));
  EXPECT_EQ(seccomp_action("SCMP_ACT_ERRNO", 38u, p), SCMP_ACT_ERRNO(38));
  EXPECT_EQ(seccomp_action("SCMP_ACT_TRACE", std::nullopt, p), SCMP_ACT_TRACE(EPERM));
  EXPECT_EQ(seccomp_action("SCMP_ACT_TRACE", 7u, p), SCMP_ACT_TRACE(7));
}

TEST(SeccompTranslate, ActionErrorsNameThePath) {
  try {
    seccomp_action("SCMP_ACT_FOO", std::nullopt, "linux.seccomp.syscalls[3].action");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "linux.seccomp.syscalls[3].action: unknown seccomp action `SCMP_ACT_FOO`");
    EXPECT_EQ(e.code(), EINVAL);
  }
  // The spec: an errno for an action that takes none is an error.
  EXPECT_THROW(seccomp_action("SCMP_ACT_ALLOW", 1u, "p"), Error);
  EXPECT_THROW(seccomp_action("SCMP_ACT_KILL", 1u, "p"), Error);
  EXPECT_THROW(seccomp_action("SCMP_ACT_ERRNO", 70000u, "p"), Error);
  // Names are exact, as in crun (no case folding, prefix required).
  EXPECT_THROW(seccomp_action("scmp_act_allow", std::nullopt, "p"), Error);
  EXPECT_THROW(seccomp_action("ALLOW", std::nullopt, "p"), Error);
}

TEST(SeccompTranslate, Operators) {
  EXPECT_EQ(seccomp_operator("SCMP_CMP_NE", "p"), SCMP_CMP_NE);
  EXPECT_EQ(seccomp_operator("SCMP_CMP_LT", "p"), SCMP_CMP_LT);
  EXPECT_EQ(seccomp_operator("SCMP_CMP_LE", "p"), SCMP_CMP_LE);
  EXPECT_EQ(seccomp_operator("SCMP_CMP_EQ", "p"), SCMP_CMP_EQ);
  EXPECT_EQ(seccomp_operator("SCMP_CMP_GE", "p"), SCMP_CMP_GE);
  EXPECT_EQ(seccomp_operator("SCMP_CMP_GT", "p"), SCMP_CMP_GT);
  EXPECT_EQ(seccomp_operator("SCMP_CMP_MASKED_EQ", "p"), SCMP_CMP_MASKED_EQ);
  try {
    seccomp_operator("SCMP_CMP_XX", "a.op");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "a.op: unknown seccomp operator `SCMP_CMP_XX`");
  }
}

TEST(SeccompTranslate, Architectures) {
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_X86_64", "p"), SCMP_ARCH_X86_64);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_X86", "p"), SCMP_ARCH_X86);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_X32", "p"), SCMP_ARCH_X32);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_AARCH64", "p"), SCMP_ARCH_AARCH64);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_MIPSEL64N32", "p"), SCMP_ARCH_MIPSEL64N32);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_PPC64LE", "p"), SCMP_ARCH_PPC64LE);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_S390X", "p"), SCMP_ARCH_S390X);
  EXPECT_EQ(seccomp_arch("SCMP_ARCH_RISCV64", "p"), SCMP_ARCH_RISCV64);
  // crun also takes libseccomp's own spelling.
  EXPECT_EQ(seccomp_arch("x86_64", "p"), SCMP_ARCH_X86_64);
  try {
    seccomp_arch("SCMP_ARCH_VAX", "linux.seccomp.architectures[1]");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "linux.seccomp.architectures[1]: unknown seccomp architecture `SCMP_ARCH_VAX`");
  }
  EXPECT_THROW(seccomp_arch("SCMP_ARCH_", "p"), Error);
}

TEST(SeccompTranslate, Flags) {
  EXPECT_EQ(seccomp_flag("SECCOMP_FILTER_FLAG_TSYNC", "p"), SECCOMP_FILTER_FLAG_TSYNC);
  EXPECT_EQ(seccomp_flag("SECCOMP_FILTER_FLAG_LOG", "p"), SECCOMP_FILTER_FLAG_LOG);
  EXPECT_EQ(seccomp_flag("SECCOMP_FILTER_FLAG_SPEC_ALLOW", "p"), SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  EXPECT_EQ(seccomp_flag("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "p"), 1u << 5);
  EXPECT_THROW(seccomp_flag("SECCOMP_FILTER_FLAG_NEW_LISTENER", "p"), Error);

  Json profile = {{"defaultAction", "SCMP_ACT_ALLOW"}};
  // No flags: crun's default.
  EXPECT_EQ(compile_seccomp(profile).flags, SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  profile["flags"] = Json::array();
  EXPECT_EQ(compile_seccomp(profile).flags, 0u);
  profile["flags"] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"};
  EXPECT_EQ(compile_seccomp(profile).flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG);
  // Needs a notification listener, which only a NOTIFY profile has: dropped.
  profile["flags"] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  EXPECT_EQ(compile_seccomp(profile).flags, 0u);
  profile["flags"] = {"SECCOMP_FILTER_FLAG_LOG", "BOGUS"};
  EXPECT_EQ(compile_error(profile), "linux.seccomp.flags[1]: unknown seccomp flag `BOGUS`");
}

TEST(SeccompCompile, ErrorsNameTheJsonPath) {
  EXPECT_EQ(compile_error(Json::object()), "linux.seccomp.defaultAction: required");
  EXPECT_EQ(compile_error({{"defaultAction", 3}}), "linux.seccomp.defaultAction: must be a string");
  EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_NOPE"}}),
            "linux.seccomp.defaultAction: unknown seccomp action `SCMP_ACT_NOPE`");
  EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_ALLOW"}, {"defaultErrnoRet", 1}}),
            "linux.seccomp.defaultAction: an errno value is given for action `SCMP_ACT_ALLOW`, "
            "which takes none");
  EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_ALLOW"},
                           {"architectures", {"SCMP_ARCH_X86_64", "bad"}}}),
            "linux.seccomp.architectures[1]: unknown seccomp architecture `bad`");

  Json base = {{"defaultAction", "SCMP_ACT_ALLOW"}};
  auto with_rule = [&](Json rule) {
    Json p = base;
    p["syscalls"] = {{{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}}, rule};
    return compile_error(p);
  };
  EXPECT_EQ(with_rule({{"names", {"mkdir"}}, {"action", "SCMP_ACT_BAD"}}),
            "linux.seccomp.syscalls[1].action: unknown seccomp action `SCMP_ACT_BAD`");
  EXPECT_EQ(with_rule({{"names", {"mkdir"}}}), "linux.seccomp.syscalls[1].action: required");
  EXPECT_EQ(with_rule({{"names", Json::array()}, {"action", "SCMP_ACT_KILL"}}),
            "linux.seccomp.syscalls[1].names: must contain at least one syscall name");
  EXPECT_EQ(with_rule({{"names", {"mkdir", 4}}, {"action", "SCMP_ACT_KILL"}}),
            "linux.seccomp.syscalls[1].names[1]: must be a string");
  EXPECT_EQ(with_rule({{"names", {"mkdir"}}, {"action", "SCMP_ACT_KILL"}, {"errnoRet", 5}}),
            "linux.seccomp.syscalls[1].action: an errno value is given for action "
            "`SCMP_ACT_KILL`, which takes none");
  EXPECT_EQ(with_rule({{"names", {"dup"}},
                       {"action", "SCMP_ACT_KILL"},
                       {"args",
                        {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_EQ"}},
                         {{"index", 1}, {"value", 1}, {"op", "SCMP_CMP_ABOUT"}}}}}),
            "linux.seccomp.syscalls[1].args[1].op: unknown seccomp operator `SCMP_CMP_ABOUT`");
  EXPECT_EQ(with_rule({{"names", {"dup"}},
                       {"action", "SCMP_ACT_KILL"},
                       {"args", {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}),
            "linux.seccomp.syscalls[1].args[0].index: must be an integer from 0 to 5");
  EXPECT_EQ(with_rule({{"names", {"dup"}},
                       {"action", "SCMP_ACT_KILL"},
                       {"args", {{{"index", 0}, {"op", "SCMP_CMP_EQ"}}}}}),
            "linux.seccomp.syscalls[1].args[0].value: required");
  EXPECT_EQ(with_rule({{"names", {"dup"}},
                       {"action", "SCMP_ACT_KILL"},
                       {"args", {{{"index", 0}, {"value", -1}, {"op", "SCMP_CMP_EQ"}}}}}),
            "linux.seccomp.syscalls[1].args[0].value: must be an integer from 0 to "
            "18446744073709551615");
  EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {1}}}),
            "linux.seccomp.syscalls[0]: must be an object");
  EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", "mkdir"}}),
            "linux.seccomp.syscalls: must be an array");
}

TEST(SeccompCompile, NotifyNeedsAListener) {
  Json p = {{"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  EXPECT_EQ(compile_error(p),
            "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
  p["listenerPath"] = "relative.sock";
  EXPECT_EQ(compile_error(p), "linux.seccomp.listenerPath: must be an absolute path");
  p["listenerPath"] = "/run/agent.sock";
  p["listenerMetadata"] = "meta";
  p["flags"] = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  SeccompProgram program = compile_seccomp(p);
  EXPECT_TRUE(program.notify);
  EXPECT_EQ(program.listener_path, "/run/agent.sock");
  EXPECT_EQ(program.listener_metadata, "meta");
  // With a listener the flag stays.
  EXPECT_EQ(program.flags, 1u << 5);
  // Without NOTIFY rules the listener fields are ignored (the spec).
  p["syscalls"][0]["action"] = "SCMP_ACT_ERRNO";
  program = compile_seccomp(p);
  EXPECT_FALSE(program.notify);
  EXPECT_EQ(program.flags, 0u);

  EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_NOTIFY"}}),
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  // The spec: listenerMetadata MUST NOT be set without listenerPath.
  EXPECT_EQ(compile_error({{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerMetadata", "x"}}),
            "linux.seccomp.listenerMetadata: must not be set without listenerPath");
}

TEST(SeccompLoad, NotifyReturnsAListener) {
  Json p = {{"defaultAction", "SCMP_ACT_ALLOW"},
            {"listenerPath", "/unused"},
            {"syscalls", {{{"names", {"getppid"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  SeccompProgram program = compile_seccomp(p);
  EXPECT_EQ(
      urun_test::in_child([&] {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return 90;
        UniqueFd listener = load_seccomp(program);
        // A seccomp listener answers SECCOMP_IOCTL_NOTIF_ID_VALID (ENOENT for id 0).
        uint64_t id = 0;
        if (!listener) return 1;
        if (::ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno != ENOENT)
          return 2;
        return 0;
      }),
      0);
}

TEST(SeccompCompile, UnknownSyscallsAreSkippedUnlessAskedToFail) {
  Json p = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls",
       {{{"names", {"getcwd", "no_such_syscall_urun", "mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  std::vector<std::string> skipped;
  SeccompOptions options;
  options.on_unknown_syscall = [&](const std::string& name) { skipped.push_back(name); };
  SeccompProgram program = compile_seccomp(p, options);
  EXPECT_FALSE(program.instructions.empty());
  EXPECT_EQ(skipped, std::vector<std::string>{"no_such_syscall_urun"});
  // The known names around the unknown one are still filtered.
  EXPECT_EQ(with_filter(program,
                        [] {
                          char buf[64];
                          bool denied = ::getcwd(buf, sizeof buf) == nullptr && errno == EPERM;
                          return denied ? 0 : 1;
                        }),
            0);

  SeccompOptions strict;
  strict.fail_unknown_syscall = true;
  EXPECT_EQ(compile_error(p, strict),
            "linux.seccomp.syscalls[0].names[1]: unknown syscall `no_such_syscall_urun`");
}

TEST(SeccompCompile, RulesWithTheDefaultActionAreSkipped) {
  // libseccomp refuses such a rule; runc and crun leave it out.
  Json p = {{"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", {{{"names", {"getpid"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
  EXPECT_NO_THROW(compile_seccomp(p));
}

TEST(SeccompLoad, ErrnoRetAndDefaultAction) {
  Json p = {{"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls",
             {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}},
              {{"names", {"rmdir"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  SeccompProgram program = compile_seccomp(p);
  EXPECT_EQ(with_filter(program,
                        [] {
                          if (::mkdir("/nonexistent-dir/x", 0700) == 0 || errno != ENOSYS) return 1;
                          if (::rmdir("/nonexistent-dir/x") == 0 || errno != EPERM) return 2;
                          // Not filtered: fails on its own terms.
                          if (::access("/nonexistent-dir", F_OK) == 0 || errno != ENOENT) return 3;
                          return 0;
                        }),
            0);

  // An ERRNO default with defaultErrnoRet and an allow list.
  Json deny = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", EACCES},
      {"syscalls", {{{"names", {"exit_group", "exit", "getpid"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
  EXPECT_EQ(with_filter(compile_seccomp(deny),
                        [] {
                          if (::syscall(SYS_getppid) != -1 || errno != EACCES) return 1;
                          if (::syscall(SYS_getpid) <= 0) return 2;
                          return 0;
                        }),
            0);
}

TEST(SeccompLoad, ArgumentConditions) {
  // dup(0) and dup(2) denied, dup(1) allowed: two conditions on the same
  // argument are two rules (an OR), as in runc and crun.
  Json p = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls",
       {{{"names", {"dup"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"args",
          {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 0}, {"value", 2}, {"op", "SCMP_CMP_EQ"}}}}},
        // Conditions on different arguments are ANDed: fcntl(1, F_GETFD) denied only.
        {{"names", {"fcntl"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", EXDEV},
         {"args",
          {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 1}, {"value", F_GETFD}, {"op", "SCMP_CMP_EQ"}}}}},
        // MASKED_EQ: (arg & value) == valueTwo.
        {{"names", {"umask"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"args",
          {{{"index", 0}, {"value", 0700}, {"valueTwo", 0700}, {"op", "SCMP_CMP_MASKED_EQ"}}}}}}}};
  EXPECT_EQ(with_filter(compile_seccomp(p),
                        [] {
                          if (::dup(0) != -1 || errno != EPERM) return 1;
                          if (::dup(2) != -1 || errno != EPERM) return 2;
                          if (::dup(1) < 0) return 3;
                          if (::fcntl(1, F_GETFD) != -1 || errno != EXDEV) return 4;
                          if (::fcntl(2, F_GETFD) < 0) return 5;
                          if (::fcntl(1, F_GETFL) < 0) return 6;
                          if (::syscall(SYS_umask, 0777) != -1 || errno != EPERM) return 7;
                          if (::syscall(SYS_umask, 0077) < 0) return 8;
                          return 0;
                        }),
            0);
}

TEST(SeccompLoad, KillActions) {
  Json p = {{"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", {{{"names", {"getppid"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
  EXPECT_EQ(
      with_filter(compile_seccomp(p), [] { return static_cast<int>(::syscall(SYS_getppid) * 0); }),
      100 + SIGSYS);
  p["syscalls"][0]["action"] = "SCMP_ACT_KILL";
  EXPECT_EQ(
      with_filter(compile_seccomp(p), [] { return static_cast<int>(::syscall(SYS_getppid) * 0); }),
      100 + SIGSYS);
}

// runc's ENOSYS stub: a syscall numbered above every syscall the profile names is one the profile
// cannot know about (newer than the profile), so it fails with ENOSYS, as on a kernel without it,
// and the C library falls back to an older call; an EPERM there breaks the program. Syscalls in
// the profile's range keep the profile's answers.
#if defined(__x86_64__)
TEST(SeccompLoad, SyscallsNewerThanTheProfileGetEnosys) {
  // process_mrelease (448) is the newest syscall named, with its own errno; futex_waitv (449) and
  // 1000 are above it; getppid (110) is below it and not named.
  Json p = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"syscalls",
       {{{"names", {"exit_group", "exit"}}, {"action", "SCMP_ACT_ALLOW"}},
        {{"names", {"process_mrelease"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EACCES}}}}};
  auto answers = [](long nr) { return ::syscall(nr, 0, 0, 0, 0, 0, 0) == -1 ? errno : 0; };
  auto check = [&](const Json& profile) {
    return with_filter(compile_seccomp(profile), [&] {
      if (answers(SYS_getppid) != EPERM) return 1;
      if (answers(448) != EACCES) return 2;
      if (answers(449) != ENOSYS) return 3;
      if (answers(1000) != ENOSYS) return 4;
      return 0;
    });
  };
  EXPECT_EQ(check(p), 0);
  // Also with several architectures (Podman lists x86_64, x86 and x32).
  p["architectures"] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  EXPECT_EQ(check(p), 0);
  // x32 syscalls (bit 30 set) are judged against the x32 numbers the profile names.
  EXPECT_EQ(with_filter(compile_seccomp(p),
                        [&] {
                          if (answers(0x40000000 | SYS_getppid) != EPERM) return 1;
                          if (answers(0x40000000 | 1000) != ENOSYS) return 2;
                          return 0;
                        }),
            0);

  // A kill default: a new syscall is ENOSYS, not a dead process; an old unnamed one still kills.
  Json kill = p;
  kill["defaultAction"] = "SCMP_ACT_KILL_PROCESS";
  EXPECT_EQ(with_filter(compile_seccomp(kill), [&] { return answers(1000) == ENOSYS ? 0 : 1; }), 0);
  EXPECT_EQ(with_filter(compile_seccomp(kill), [&] { return answers(SYS_getppid) * 0 + 1; }),
            100 + SIGSYS);

  // A profile that names no syscall denies everything as it says (runc adds no stub either).
  // Not even exit is allowed: the child reports by the signal it dies of (no syscall needed).
  Json deny_all = {{"defaultAction", "SCMP_ACT_ERRNO"}};
  EXPECT_EQ(with_filter(compile_seccomp(deny_all),
                        [&] {
                          if (answers(1000) != EPERM) __builtin_trap();  // SIGILL
                          *static_cast<volatile int*>(nullptr) = 0;      // SIGSEGV
                          return 0;
                        }),
            100 + SIGSEGV);
  // ENOSYS already the default: nothing to add, the program is libseccomp's alone.
  Json enosys = p;
  enosys["defaultErrnoRet"] = ENOSYS;
  Json eperm = p;
  EXPECT_LT(compile_seccomp(enosys).instructions.size(),
            compile_seccomp(eperm).instructions.size());
  EXPECT_EQ(with_filter(compile_seccomp(enosys),
                        [&] { return answers(1000) == ENOSYS && answers(110) == ENOSYS ? 0 : 1; }),
            0);
}
#endif

TEST(SeccompFor, SpecAndAnnotations) {
  spec::Spec spec;
  EXPECT_FALSE(seccomp_for(spec).has_value());
  spec.linux.emplace();
  EXPECT_FALSE(seccomp_for(spec).has_value());
  spec.linux->seccomp = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"urun_unknown_call"}}, {"action", "SCMP_ACT_KILL"}}}}};
  EXPECT_TRUE(seccomp_for(spec).has_value());
  spec.annotations["run.oci.seccomp_fail_unknown_syscall"] = "1";
  EXPECT_THROW(seccomp_for(spec), Error);
  spec.annotations.clear();

  // run.oci.seccomp.receiver stands in for listenerPath (crun).
  spec.linux->seccomp = {{"defaultAction", "SCMP_ACT_ALLOW"},
                         {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  EXPECT_THROW(seccomp_for(spec), Error);
  spec.annotations["run.oci.seccomp.receiver"] = "/run/receiver.sock";
  auto notify = seccomp_for(spec);
  ASSERT_TRUE(notify.has_value());
  EXPECT_TRUE(notify->notify);
  EXPECT_EQ(notify->listener_path, "/run/receiver.sock");
  spec.linux->seccomp["listenerPath"] = "/run/agent.sock";
  EXPECT_EQ(seccomp_for(spec)->listener_path, "/run/agent.sock") << "listenerPath wins";
  spec.annotations["run.oci.seccomp.receiver"] = "relative.sock";
  EXPECT_THROW(seccomp_for(spec), Error);
  spec.annotations.clear();
  spec.annotations["run.oci.seccomp.plugins"] = "plugin.so";
  EXPECT_THROW(seccomp_for(spec), Error) << "plugins are refused, not ignored";
  spec.annotations.clear();

  // run.oci.seccomp_bpf_data: a raw program, base64, replaces the profile.
  // "BgAAAAAA/38=" is one instruction: BPF_RET|BPF_K SECCOMP_RET_ALLOW.
  spec.annotations["run.oci.seccomp_bpf_data"] = "BgAAAAAA/38=";
  auto raw = seccomp_for(spec);
  ASSERT_TRUE(raw.has_value());
  ASSERT_EQ(raw->instructions.size(), 1u);
  EXPECT_EQ(raw->instructions[0].code, BPF_RET | BPF_K);
  EXPECT_EQ(raw->instructions[0].k, SECCOMP_RET_ALLOW);
  spec.annotations["run.oci.seccomp_bpf_data"] = "BgAAAA==";  // 4 bytes: not whole instructions
  EXPECT_THROW(seccomp_for(spec), Error);
  spec.annotations["run.oci.seccomp_bpf_data"] = "not base64!";
  EXPECT_THROW(seccomp_for(spec), Error);
}

TEST(SeccompFor, Base64) {
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("Zm9v"), "foo");
  EXPECT_EQ(base64_decode("Zm9vYmFy\n"), "foobar");
  EXPECT_THROW(base64_decode("Zm9"), Error);
  EXPECT_THROW(base64_decode("Z=9v"), Error);
  EXPECT_THROW(base64_decode("Zm9*"), Error);
}

TEST(SeccompFeatures, ReportsWhatLibseccompKnows) {
  auto f = seccomp_features();
  EXPECT_TRUE(f["enabled"].get<bool>());
  auto has = [](const nlohmann::ordered_json& list, const std::string& v) {
    for (const auto& e : list)
      if (e == v) return true;
    return false;
  };
  EXPECT_TRUE(has(f["actions"], "SCMP_ACT_ERRNO"));
  EXPECT_TRUE(has(f["actions"], "SCMP_ACT_KILL_PROCESS"));
  EXPECT_TRUE(has(f["actions"], "SCMP_ACT_NOTIFY"));
  EXPECT_EQ(f["operators"].size(), 7u);
  EXPECT_TRUE(has(f["archs"], "SCMP_ARCH_X86_64"));
  EXPECT_TRUE(has(f["archs"], "SCMP_ARCH_AARCH64"));
  EXPECT_EQ(f["knownFlags"].size(), 4u);
  // Any kernel with seccomp filters and this test's age knows TSYNC.
  EXPECT_TRUE(has(f["supportedFlags"], "SECCOMP_FILTER_FLAG_TSYNC"));
}

}  // namespace
}  // namespace urun::linux
