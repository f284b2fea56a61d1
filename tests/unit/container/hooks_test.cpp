#include "container/hooks.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "container/hook_runs.hpp"
#include "hooks_fixture.hpp"

namespace {

using urun::container::run_hooks;
using urun_unit_test::Hooks;

// Poststop (runtime-spec 1.3): a failure is a warning and the later hooks still run.
TEST_F(Hooks, EveryPoststopHookRunsAndFailuresAreWarnings) {
  std::string log = file("order.log");
  std::string warnings = file("warnings.log");
  urun::spec::Spec spec;
  spec.hooks.poststop = {hook(script("a", "echo a >> '" + log + "'\nexit 2\n")),
                         hook(script("b", "echo b >> '" + log + "'\n")),
                         hook(script("c", "echo c >> '" + log + "'\nkill -TERM $$\n")),
                         hook(script("d", "cat >> '" + log + "'\n"))};
  urun::log::configure("file:" + warnings, urun::log::Format::text, urun::log::Level::warning);
  urun::container::run_poststop_hooks(spec, dir_, "{\"status\":\"stopped\"}", "delete `c1`");
  urun::log::configure("", urun::log::Format::text, urun::log::Level::warning);
  EXPECT_EQ(slurp(log), "a\nb\nc\n{\"status\":\"stopped\"}");
  const std::string text = slurp(warnings);
  EXPECT_NE(text.find("delete `c1`: poststop hook `" + file("a") + "`: exited with status 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("delete `c1`: poststop hook `" + file("c") + "`: killed by signal 15"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find(file("b")), std::string::npos) << text;
}

TEST_F(Hooks, OutputAnnotationFilesReceiveTheHooksOutput) {
  urun::spec::Spec spec;
  spec.annotations["run.oci.hooks.stdout"] = "hook-stdout.log";  // relative to the bundle
  spec.annotations["run.oci.hooks.stderr"] = file("hook-stderr.log");
  // Append mode: existing content stays.
  std::ofstream(file("hook-stdout.log")) << "before\n";
  auto output = urun::container::open_hook_output(spec, dir_);
  ASSERT_TRUE(output.stdout_file.valid());
  ASSERT_TRUE(output.stderr_file.valid());
  EXPECT_TRUE(fcntl(output.stdout_file.get(), F_GETFD) & FD_CLOEXEC);
  std::string s = script("h", "echo out-line\necho err-line >&2\n");
  run_hooks("prestart", {hook(s)}, "{}", output.io());
  EXPECT_EQ(slurp(file("hook-stdout.log")), "before\nout-line\n");
  EXPECT_EQ(slurp(file("hook-stderr.log")), "err-line\n");
  struct stat st {};
  ASSERT_EQ(stat(file("hook-stderr.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(Hooks, NoAnnotationsMeanNoFiles) {
  urun::spec::Spec spec;
  auto output = urun::container::open_hook_output(spec, dir_);
  EXPECT_FALSE(output.stdout_file.valid());
  EXPECT_FALSE(output.stderr_file.valid());
  EXPECT_EQ(output.io().stdout_fd, -1);
}

TEST_F(Hooks, UnopenableOutputFileIsAnError) {
  urun::spec::Spec spec;
  spec.annotations["run.oci.hooks.stdout"] = file("no-such-dir/out.log");
  EXPECT_THROW(urun::container::open_hook_output(spec, dir_), urun::Error);
}

}  // namespace
