#include "runtime/hooks.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "hooks_fixture.hpp"

namespace {

using urun::runtime::HookIo;
using urun::runtime::run_hooks;
using urun_unit_test::Hooks;

TEST_F(Hooks, StateJsonArrivesOnStdin) {
  std::string out = file("stdin.out");
  std::string s = script("h", "cat > '" + out + "'\n");
  const std::string state = R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42})";
  run_hooks("prestart", {hook(s)}, state, {});
  EXPECT_EQ(slurp(out), state);
}

TEST_F(Hooks, EnvIsExactlyTheGivenOne) {
  std::string out = file("env.out");
  // `env` would need PATH; the shell's own `export -p` lists what it received.
  setenv("URUN_TEST_LEAK", "from-urun", 1);
  std::string s = script("h", "export -p > '" + out + "'\n");
  run_hooks("createRuntime", {hook(s, {}, {"FOO=bar", "HELLO=world"})}, "{}", {});
  unsetenv("URUN_TEST_LEAK");
  std::string env = slurp(out);
  EXPECT_NE(env.find("FOO='bar'"), std::string::npos) << env;
  EXPECT_NE(env.find("HELLO='world'"), std::string::npos) << env;
  EXPECT_EQ(env.find("URUN_TEST_LEAK"), std::string::npos) << env;
  EXPECT_EQ(env.find("HOME="), std::string::npos) << env;
}

TEST_F(Hooks, ArgsArePassedIncludingArgvZero) {
  std::string out = file("args.out");
  std::string s = script("h", "printf '%s|' \"$0\" \"$@\" > '" + out + "'\n");
  // With a script, the kernel puts the script path in $0; what we control is
  // the rest of argv after args[0].
  run_hooks("poststart", {hook(s, {"my-hook", "one", "two words"})}, "{}", {});
  EXPECT_EQ(slurp(out), s + "|one|two words|");
}

TEST_F(Hooks, ArgvZeroIsTheGivenOneForBinaries) {
  std::string out = file("argv0.out");
  // /bin/sh -c 'echo $0' prints argv[0] as we passed it.
  run_hooks("prestart", {hook("/bin/sh", {"custom-argv0", "-c", "echo \"$0\" > '" + out + "'"})},
            "{}", {});
  EXPECT_EQ(slurp(out), "custom-argv0\n");
}

TEST_F(Hooks, NonZeroExitFails) {
  std::string s = script("h", "exit 3\n");
  try {
    run_hooks("prestart", {hook(s)}, "{}", {});
    FAIL() << "a failing hook did not throw";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "prestart hook `" + s + "`: exited with status 3");
  }
}

TEST_F(Hooks, KilledBySignalFails) {
  std::string s = script("h", "kill -TERM $$\n");
  try {
    run_hooks("poststop", {hook(s)}, "{}", {});
    FAIL() << "a killed hook did not throw";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "poststop hook `" + s + "`: killed by signal 15");
  }
}

TEST_F(Hooks, TimeoutKillsTheHook) {
  std::string pidfile = file("pid");
  std::string s = script("h", "echo $$ > '" + pidfile + "'\nexec sleep 10\n");
  auto start = std::chrono::steady_clock::now();
  try {
    run_hooks("createContainer", {hook(s, {}, {}, 1)}, "{}", {});
    FAIL() << "a hook past its timeout did not throw";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "createContainer hook `" + s + "`: timed out after 1 seconds");
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(4));
  pid_t pid = std::stoi(slurp(pidfile));
  ASSERT_GT(pid, 0);
  // Killed and reaped: the pid no longer exists (not even as a zombie).
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(Hooks, HookNotReadingStdinDoesNotFail) {
  std::string s = script("h", "exit 0\n");
  // Larger than a pipe buffer: the write must end with EPIPE, not SIGPIPE.
  std::string big(1 << 20, 'x');
  EXPECT_NO_THROW(run_hooks("prestart", {hook(s, {}, {}, 5)}, big, {}));
}

TEST_F(Hooks, MissingPathSaysWhy) {
  std::string missing = file("does-not-exist");
  try {
    run_hooks("prestart", {hook(missing)}, "{}", {});
    FAIL() << "a missing hook did not throw";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "prestart hook `" + missing + "`: No such file or directory");
    EXPECT_EQ(e.code(), ENOENT);
  }
}

TEST_F(Hooks, NonExecutableSaysWhy) {
  std::string path = file("plain");
  std::ofstream(path) << "#!/bin/sh\nexit 0\n";
  chmod(path.c_str(), 0644);
  try {
    run_hooks("prestart", {hook(path)}, "{}", {});
    FAIL() << "a non-executable hook did not throw";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "prestart hook `" + path + "`: Permission denied");
  }
}

TEST_F(Hooks, RunInOrderAndFirstFailureStopsTheRest) {
  std::string log = file("order.log");
  std::string a = script("a", "echo a >> '" + log + "'\n");
  std::string b = script("b", "echo b >> '" + log + "'\nexit 1\n");
  std::string c = script("c", "echo c >> '" + log + "'\n");
  try {
    run_hooks("startContainer", {hook(a), hook(b), hook(c)}, "{}", {});
    FAIL() << "the failing hook did not throw";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "startContainer hook `" + b + "`: exited with status 1");
  }
  EXPECT_EQ(slurp(log), "a\nb\n");
}

TEST_F(Hooks, StdoutDefaultsToDevNullAndStderrGoesToTheGivenFd) {
  std::string err_path = file("stderr.out");
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(err_fd, 0);
  // stdout must be /dev/null. Read the shell's own fd 1 from a command
  // substitution: a redirected command would show the shell's saved copy.
  std::string s = script("h", "t=$(readlink /proc/$$/fd/1)\necho \"$t\" >&2\necho to-err >&2\n");
  run_hooks("prestart", {hook(s)}, "{}", HookIo{-1, err_fd});
  close(err_fd);
  EXPECT_EQ(slurp(err_path), "/dev/null\nto-err\n");
}

TEST_F(Hooks, NoUrunFdLeaksIntoTheHook) {
  std::string out = file("fds.out");
  // An fd without O_CLOEXEC, as a careless library might leave one.
  int leaky = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  std::string s = script("h", "ls /proc/self/fd > '" + out + "'\n");
  run_hooks("prestart", {hook(s)}, "{}", {});
  close(leaky);
  // 0, 1, 2 and the fd ls itself opens for the directory (3 here, as every
  // inherited fd >= 3 was closed at exec).
  EXPECT_EQ(slurp(out), "0\n1\n2\n3\n");
}

}  // namespace
