// End to end: an idmap option parsed here, a namespace from UsernsHolder, and the kernel's
// idmapped mount agree on the meaning of the triplets (file system id -> host id).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/unique_fd.hpp"
#include "temp_dir.hpp"
#include "userns/holder.hpp"
#include "userns/idmap_option.hpp"

namespace urun::userns {
namespace {

TEST(IdmapOption, HolderNamespaceIdmapsAMountAsTheManualSays) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for open_tree/mount_setattr";
  urun_test::TempDir tmp("urun-idmap");
  const std::string& dir = tmp.path();
  std::ofstream(dir + "/by-root") << "x";
  std::ofstream(dir + "/by-5") << "x";
  ASSERT_EQ(chown((dir + "/by-root").c_str(), 0, 0), 0);
  ASSERT_EQ(chown((dir + "/by-5").c_str(), 5, 7), 0);

  // "the first value is the start of the backing file system IDs that are mapped to the second
  // value on the host": on-disk 0 shows as 100000, on-disk 5 as 100005.
  IdmapSpec spec = parse_idmap_option("idmap=uids=0-100000-65536;gids=0-200000-65536", {}, {});
  UsernsHolder holder(spec.uids, spec.gids);

  UniqueFd tree(static_cast<int>(
      syscall(SYS_open_tree, AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  ASSERT_TRUE(tree.valid()) << strerror(errno);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(holder.ns_fd());
  if (syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    int err = errno;
    if (err == EINVAL || err == ENOSYS || err == EPERM) {
      GTEST_SKIP() << "idmapped mounts unsupported here: " << strerror(err);
    }
    FAIL() << "mount_setattr: " << strerror(err);
  }
  struct stat st;
  ASSERT_EQ(fstatat(tree.get(), "by-root", &st, 0), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_EQ(st.st_gid, 200000u);
  ASSERT_EQ(fstatat(tree.get(), "by-5", &st, 0), 0);
  EXPECT_EQ(st.st_uid, 100005u);
  EXPECT_EQ(st.st_gid, 200007u);
}

}  // namespace
}  // namespace urun::userns
