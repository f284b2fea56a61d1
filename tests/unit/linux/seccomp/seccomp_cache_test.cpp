// The cache of compiled seccomp programs: a hit skips the compile, a different key or a damaged
// entry compiles again, the directory does not grow for ever, and ".cache" is no container id.
#include "linux/seccomp/seccomp_cache.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "state/store.hpp"

namespace urun::linux {
namespace {

class SeccompCache : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/urun-seccomp-cache-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = seccomp_cache_dir(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::vector<sock_filter> get(const std::string& key, uint32_t k) {
    return cached_seccomp_program(dir_, key, [&] {
      ++compiles_;
      return std::vector<sock_filter>{{0x06, 0, 0, k}};
    });
  }
  size_t entries() const {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) n += e.is_regular_file();
    return n;
  }

  std::string root_, dir_;
  int compiles_ = 0;
};

TEST_F(SeccompCache, HitSkipsTheCompile) {
  EXPECT_EQ(get("key-a", 7)[0].k, 7u);
  EXPECT_EQ(compiles_, 1);
  EXPECT_EQ(dir_, root_ + "/.cache/seccomp");
  EXPECT_EQ(std::filesystem::status(dir_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  // Same key: the stored program, even though compile() would now give another.
  EXPECT_EQ(get("key-a", 8)[0].k, 7u);
  EXPECT_EQ(compiles_, 1);
  // Another key compiles.
  EXPECT_EQ(get("key-b", 9)[0].k, 9u);
  EXPECT_EQ(compiles_, 2);
  EXPECT_EQ(entries(), 2u);
}

TEST_F(SeccompCache, DamagedEntryIsCompiledAgain) {
  get("key-a", 7);
  ASSERT_EQ(entries(), 1u);
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    std::ofstream(e.path(), std::ios::app) << "xyz";  // no longer whole instructions
  }
  EXPECT_EQ(get("key-a", 8)[0].k, 8u);
  EXPECT_EQ(compiles_, 2);
  EXPECT_EQ(get("key-a", 9)[0].k, 8u) << "the rewritten entry is used again";
}

TEST_F(SeccompCache, CompileErrorsPassThroughAndStoreNothing) {
  EXPECT_THROW(cached_seccomp_program(dir_, "bad",
                                      []() -> std::vector<sock_filter> {
                                        throw Error("linux.seccomp.defaultAction: required",
                                                    EINVAL);
                                      }),
               Error);
  EXPECT_FALSE(std::filesystem::exists(dir_) && entries() > 0);
}

TEST_F(SeccompCache, UnwritableCacheOnlyCostsACompile) {
  // A file where the directory should be.
  std::filesystem::create_directories(root_ + "/.cache");
  std::ofstream(dir_) << "not a directory";
  EXPECT_EQ(get("key-a", 7)[0].k, 7u);
  EXPECT_EQ(get("key-a", 8)[0].k, 8u);
  EXPECT_EQ(compiles_, 2);
}

TEST_F(SeccompCache, DoesNotGrowForEver) {
  for (int i = 0; i < 100; ++i) get("key-" + std::to_string(i), static_cast<uint32_t>(i));
  EXPECT_LE(entries(), 32u);
  EXPECT_GE(entries(), 1u);
}

TEST_F(SeccompCache, KeyCoversProfileOptionsAndBuild) {
  nlohmann::json a = {{"defaultAction", "SCMP_ACT_ALLOW"}};
  nlohmann::json b = {{"defaultAction", "SCMP_ACT_LOG"}};
  SeccompOptions strict;
  strict.fail_unknown_syscall = true;
  EXPECT_EQ(seccomp_cache_key(a, {}), seccomp_cache_key(a, {}));
  EXPECT_NE(seccomp_cache_key(a, {}), seccomp_cache_key(b, {}));
  EXPECT_NE(seccomp_cache_key(a, {}), seccomp_cache_key(a, strict));
  EXPECT_NE(seccomp_cache_key(a, {}).find("libseccomp "), std::string::npos);
}

TEST(SeccompCacheId, CacheDirIsNoContainerId) {
  EXPECT_THROW(state::validate_id(".cache"), Error);
  EXPECT_THROW(state::validate_id(".cached"), Error);  // crun 1.28: no leading dot
}

}  // namespace
}  // namespace urun::linux
