// Resolution inside a rootfs full of hostile symlinks, with openat2 and with
// the fallback walk used on kernels without it. Needs no privileges.
#include "linux/path.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "common/error.hpp"

namespace {

namespace stdfs = std::filesystem;
using urun::UniqueFd;
using namespace urun::linux;

std::string slurp(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

void write_text(const stdfs::path &p, const std::string &text) { std::ofstream(p) << text; }

ino_t inode_of_fd(int fd) {
  struct stat st;
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

ino_t inode_of(const stdfs::path &p) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

int error_code_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const urun::Error &e) {
    return e.code();
  }
  return 0;
}

// <tmp>/outside/secret and <tmp>/rootfs/... where every link tries to reach
// `outside`. The parameter selects openat2 (true) or the fallback walk.
class PathResolve : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/urun-path-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "rootfs";
    stdfs::create_directories(base_ / "outside");
    write_text(base_ / "outside" / "secret", "host");
    write_text(base_ / "secret", "host");
    stdfs::create_directories(root_ / "etc");
    stdfs::create_directories(root_ / "a" / "b");
    stdfs::create_directories(root_ / "outside");
    write_text(root_ / "etc" / "passwd", "inside");
    write_text(root_ / "secret", "inside");
    write_text(root_ / "outside" / "secret", "inside");
    stdfs::create_symlink("/", root_ / "escape");
    stdfs::create_symlink("../../..", root_ / "up");
    stdfs::create_symlink("/etc/../../..", root_ / "etcup");
    stdfs::create_symlink("../../../outside", root_ / "a" / "b" / "rel");
    stdfs::create_symlink("/etc/passwd", root_ / "a" / "b" / "abs");
    stdfs::create_symlink("/../outside", root_ / "a" / "b" / "absup");
    stdfs::create_symlink("/nonexistent/x", root_ / "dangling");
    stdfs::create_symlink("loop2", root_ / "loop1");
    stdfs::create_symlink("loop1", root_ / "loop2");
    stdfs::create_symlink("/etc/passwd", root_ / "passwdlink");
    stdfs::create_symlink("/proc/self/root", root_ / "magic");
    root_fd_.reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_.valid());
    use_openat2_for_testing(GetParam());
  }
  void TearDown() override {
    use_openat2_for_testing(true);
    root_fd_.reset();
    stdfs::remove_all(base_);
  }

  std::string read_in_root(const std::string &path) {
    UniqueFd fd = open_in_root(root_fd_.get(), path, O_RDONLY);
    return slurp(fd.get());
  }

  stdfs::path base_, root_;
  UniqueFd root_fd_;
};

TEST_P(PathResolve, AbsoluteLinkToSlashStaysInside) {
  EXPECT_EQ(read_in_root("/escape/secret"), "inside");
  EXPECT_EQ(read_in_root("escape/escape/outside/secret"), "inside");
}

TEST_P(PathResolve, DotDotLinksAreClampedAtTheRoot) {
  EXPECT_EQ(read_in_root("/up/secret"), "inside");
  EXPECT_EQ(read_in_root("/etcup/secret"), "inside");
  EXPECT_EQ(read_in_root("/a/b/rel/secret"), "inside");
  EXPECT_EQ(read_in_root("/../../../secret"), "inside");
  EXPECT_EQ(read_in_root("/etc/../../../etc/passwd"), "inside");
}

TEST_P(PathResolve, FollowsLinksToFilesInside) { EXPECT_EQ(read_in_root("/passwdlink"), "inside"); }

TEST_P(PathResolve, AbsoluteLinkInASubdirectoryRestartsAtTheRoot) {
  EXPECT_EQ(read_in_root("/a/b/abs"), "inside");
  EXPECT_EQ(read_in_root("/a/b/absup/secret"), "inside");
}

TEST_P(PathResolve, SlashIsTheRootItself) {
  UniqueFd fd = open_in_root(root_fd_.get(), "/", O_PATH | O_DIRECTORY);
  EXPECT_EQ(inode_of_fd(fd.get()), inode_of(root_));
}

TEST_P(PathResolve, MissingAndLoopsAreErrors) {
  EXPECT_EQ(error_code_of([&] { open_in_root(root_fd_.get(), "/nope", O_RDONLY); }), ENOENT);
  EXPECT_EQ(error_code_of([&] { open_in_root(root_fd_.get(), "/loop1", O_RDONLY); }), ELOOP);
  EXPECT_EQ(error_code_of([&] { open_in_root(root_fd_.get(), "/etc/passwd/x", O_RDONLY); }),
            ENOTDIR);
}

TEST_P(PathResolve, ErrorMessageNamesThePath) {
  try {
    open_in_root(root_fd_.get(), "/nope", O_RDONLY);
    FAIL() << "no error";
  } catch (const urun::Error &e) {
    EXPECT_STREQ(e.what(), "open `/nope` in rootfs: No such file or directory");
  }
}

TEST_P(PathResolve, NoFollowReturnsTheLinkItself) {
  UniqueFd fd = open_in_root(root_fd_.get(), "/escape", O_PATH | O_NOFOLLOW);
  struct stat st;
  ASSERT_EQ(::fstat(fd.get(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_P(PathResolve, CreateThroughALinkCreatesInside) {
  UniqueFd fd = open_in_root(root_fd_.get(), "/escape/made", O_WRONLY | O_CREAT, 0600);
  EXPECT_TRUE(stdfs::exists(root_ / "made"));
  EXPECT_FALSE(stdfs::exists(base_ / "made"));
  EXPECT_FALSE(stdfs::exists("/made"));
}

TEST_P(PathResolve, MkdirAllThroughHostileLinksStaysInside) {
  UniqueFd fd = mkdir_all_in_root(root_fd_.get(), "/up/new/deeper");
  EXPECT_TRUE(stdfs::is_directory(root_ / "new" / "deeper"));
  EXPECT_FALSE(stdfs::exists(base_ / "new"));
  EXPECT_EQ(inode_of_fd(fd.get()), inode_of(root_ / "new" / "deeper"));

  UniqueFd fd2 = mkdir_all_in_root(root_fd_.get(), "/a/b/rel/sub");
  EXPECT_TRUE(stdfs::is_directory(root_ / "outside" / "sub"));
  EXPECT_FALSE(stdfs::exists(base_ / "outside" / "sub"));
}

TEST_P(PathResolve, MkdirAllFollowsADanglingLinkInside) {
  UniqueFd fd = mkdir_all_in_root(root_fd_.get(), "/dangling");
  EXPECT_TRUE(stdfs::is_directory(root_ / "nonexistent" / "x"));
  EXPECT_EQ(inode_of_fd(fd.get()), inode_of(root_ / "nonexistent" / "x"));
}

TEST_P(PathResolve, MkdirAllOverAFileFails) {
  EXPECT_EQ(error_code_of([&] { mkdir_all_in_root(root_fd_.get(), "/etc/passwd/sub"); }), ENOTDIR);
}

TEST_P(PathResolve, EnsureFileThroughLinks) {
  UniqueFd fd = ensure_in_root(root_fd_.get(), "/etcup/outside/newfile", false);
  EXPECT_TRUE(stdfs::is_regular_file(root_ / "outside" / "newfile"));
  EXPECT_FALSE(stdfs::exists(base_ / "outside" / "newfile"));
  EXPECT_EQ(inode_of_fd(fd.get()), inode_of(root_ / "outside" / "newfile"));
  struct stat st;
  ASSERT_EQ(::stat((root_ / "outside" / "newfile").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0111, 0u) << "a mount-point file is never executable";
}

TEST_P(PathResolve, EnsureExistingReturnsIt) {
  UniqueFd fd = ensure_in_root(root_fd_.get(), "/passwdlink", false);
  EXPECT_EQ(inode_of_fd(fd.get()), inode_of(root_ / "etc" / "passwd"));
  UniqueFd dir = ensure_in_root(root_fd_.get(), "/escape/a/b", true);
  EXPECT_EQ(inode_of_fd(dir.get()), inode_of(root_ / "a" / "b"));
}

TEST_P(PathResolve, EnsureDirThroughDanglingLink) {
  UniqueFd fd = ensure_in_root(root_fd_.get(), "/dangling/y", true);
  EXPECT_TRUE(stdfs::is_directory(root_ / "nonexistent" / "x" / "y"));
  EXPECT_FALSE(stdfs::exists("/nonexistent"));
}

TEST_P(PathResolve, MagicLinkTextNeverLeavesTheRoot) {
  // /proc/self/root in the rootfs is only text here (no proc mounted inside);
  // with openat2 or the walk it must resolve inside, and fail as missing.
  EXPECT_EQ(error_code_of([&] { open_in_root(root_fd_.get(), "/magic/etc/passwd", O_RDONLY); }),
            ENOENT);
}

INSTANTIATE_TEST_SUITE_P(PathBoth, PathResolve, ::testing::Values(true, false),
                         [](const auto &info) { return info.param ? "openat2" : "walk"; });

// The walk alone (always used for mount targets).
class PathResolveInRoot : public PathResolve {};

TEST_P(PathResolveInRoot, GivesTheParentAndFinalName) {
  InRootEntry e = resolve_in_root(root_fd_.get(), "/up/a/b/rel/secret", false);
  EXPECT_EQ(e.name, "secret");
  EXPECT_EQ(inode_of_fd(e.dir.get()), inode_of(root_ / "outside"));
}

TEST_P(PathResolveInRoot, KeepsAFinalLinkWhenAsked) {
  InRootEntry e = resolve_in_root(root_fd_.get(), "/a/b/rel", false, false);
  EXPECT_EQ(e.name, "rel");
  EXPECT_EQ(inode_of_fd(e.dir.get()), inode_of(root_ / "a" / "b"));
}

TEST_P(PathResolveInRoot, DirectoryEndingsAreNamedByTheirParent) {
  InRootEntry e = resolve_in_root(root_fd_.get(), "/a/b/..", false);
  EXPECT_EQ(e.name, "a");
  EXPECT_EQ(inode_of_fd(e.dir.get()), inode_of(root_));
  InRootEntry root = resolve_in_root(root_fd_.get(), "/escape", false);
  EXPECT_EQ(root.name, "");
  EXPECT_EQ(inode_of_fd(root.dir.get()), inode_of(root_));
}

TEST_P(PathResolveInRoot, MissingParentsFailUnlessCreated) {
  EXPECT_EQ(error_code_of([&] { resolve_in_root(root_fd_.get(), "/p/q/r", false); }), ENOENT);
  InRootEntry e = resolve_in_root(root_fd_.get(), "/escape/p/q/r", true);
  EXPECT_EQ(e.name, "r");
  EXPECT_EQ(inode_of_fd(e.dir.get()), inode_of(root_ / "p" / "q"));
  EXPECT_FALSE(stdfs::exists(root_ / "p" / "q" / "r")) << "the final entry is not created";
}

INSTANTIATE_TEST_SUITE_P(PathWalk, PathResolveInRoot, ::testing::Values(false));

TEST(PathClean, Lexical) {
  EXPECT_EQ(clean_path(""), "/");
  EXPECT_EQ(clean_path("/"), "/");
  EXPECT_EQ(clean_path("a/../../b"), "/b");
  EXPECT_EQ(clean_path("//dev///pts/"), "/dev/pts");
  EXPECT_EQ(clean_path("/./proc/./sys/.."), "/proc");
  EXPECT_EQ(clean_path("/../../.."), "/");
  EXPECT_EQ(clean_path("/a/b/../c/./d/.."), "/a/c");
}

TEST(PathFd, ProcSelfFd) { EXPECT_EQ(fd_path(7), "/proc/self/fd/7"); }

}  // namespace
