// Host paths opened before the init takes its user namespace's ids (linux/mounts/bind_sources.hpp).
#include "linux/mounts/bind_sources.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/error.hpp"
#include "in_child.hpp"
#include "temp_dir.hpp"

namespace {

using urun::linux::decode_indices;
using urun::linux::encode_indices;
using urun::linux::open_host_paths_in_child;

urun::spec::Mount mount(const std::string& dest, const std::string& type, const std::string& source,
                        std::vector<std::string> options) {
  urun::spec::Mount m;
  m.destination = dest;
  m.type = type;
  m.source = source;
  m.options = std::move(options);
  return m;
}

TEST(BindSources, IndicesRoundTrip) {
  EXPECT_EQ(encode_indices({}), "");
  EXPECT_EQ(encode_indices({1, 4, 12}), "1,4,12");
  EXPECT_EQ(decode_indices("", 3), std::vector<size_t>{});
  EXPECT_EQ(decode_indices("1,4,12", 13), (std::vector<size_t>{1, 4, 12}));
}

TEST(BindSources, BadIndicesRefused) {
  for (const char* bad : {"3", "1,", ",1", "x", "1;2", "-1", "1,,2", "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    try {
      decode_indices(bad, 3);
      ADD_FAILURE() << "accepted";
    } catch (const urun::Error& e) {
      EXPECT_EQ(e.code(), EPROTO);
    }
  }
}

// Only bind sources are opened (not filesystems, not id-mapped binds, whose tree the runtime
// makes); a missing one is left for the mount to report, not listed as refused.
TEST(BindSources, OpensBindSourcesOnly) {
  urun_test::TempDir dir("urun-bindsrc");
  ASSERT_EQ(::mkdir((dir.path() + "/src").c_str(), 0755), 0);
  urun::spec::Spec spec;
  spec.mounts = {mount("/proc", "proc", "proc", {}),
                 mount("/a", "bind", dir.path() + "/src", {"rbind"}),
                 mount("/b", "none", dir.path() + "/src", {"bind"}),
                 mount("/c", "bind", dir.path() + "/src", {"bind", "idmap"}),
                 mount("/d", "bind", dir.path() + "/missing", {"bind"})};
  urun::linux::HostPaths p = open_host_paths_in_child(spec, dir.path());
  EXPECT_TRUE(p.rootfs.valid());
  ASSERT_EQ(p.bind_sources.size(), 5u);
  EXPECT_FALSE(p.bind_sources[0].valid());
  EXPECT_TRUE(p.bind_sources[1].valid());
  EXPECT_TRUE(p.bind_sources[2].valid());
  EXPECT_FALSE(p.bind_sources[3].valid());
  EXPECT_FALSE(p.bind_sources[4].valid());
  EXPECT_TRUE(p.refused.empty());
}

// A source below a directory the caller may not enter is listed for the runtime to clone
// (copy-symlink ones excepted: a clone would follow the link).
TEST(BindSources, RefusedSourcesListed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run as another user";
  urun_test::TempDir dir("urun-bindsrc");
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const std::string priv = dir.path() + "/private";
  ASSERT_EQ(::mkdir(priv.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((priv + "/src").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("src", (priv + "/link").c_str()), 0);
  urun::spec::Spec spec;
  spec.mounts = {mount("/a", "bind", priv + "/src", {"bind"}),
                 mount("/b", "bind", priv + "/link", {"bind", "copy-symlink"}),
                 mount("/c", "bind", dir.path(), {"bind"})};
  int code = urun_test::in_child([&] {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) return 2;
    urun::linux::HostPaths p = open_host_paths_in_child(spec, priv + "/src");
    if (p.rootfs.valid()) return 3;
    if (p.refused != std::vector<size_t>{0}) return 4;
    if (!p.bind_sources[2].valid()) return 5;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
