// The attach warm-up (cgroups/attach_warmup.hpp): it forks a writer only where this
// process's cgroup is found, and that writer leaves our cgroup membership as it was.
#include "cgroups/attach_warmup.hpp"
#include "cgroups/manager.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string own_cgroups() {
  std::ifstream in("/proc/self/cgroup");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AttachWarmup, NothingStartsWithoutACgroupTreeUnderTheRoot) {
  char tmpl[] = "/tmp/urun-warmup-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  {
    urun::cgroups::AttachWarmup w(tmpl);  // an empty directory: no cgroup.procs anywhere
    EXPECT_FALSE(w.started());
  }
  // No child was forked, so there is none to reap.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  std::filesystem::remove_all(tmpl);
}

TEST(AttachWarmup, WriterLeavesOurCgroupsAsTheyWere) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to write cgroup.procs on this host";
  const std::string before = own_cgroups();
  {
    urun::cgroups::AttachWarmup w(urun::cgroups::kDefaultRoot);
    EXPECT_TRUE(w.started()) << "no writable cgroup.procs of ours under /sys/fs/cgroup";
  }  // reaped here
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "the writer was not reaped";
  EXPECT_EQ(own_cgroups(), before);
}

}  // namespace
