// Mount option parsing: MS_* flags, propagation, crun's r$FLAG recursive
// attributes, filesystem data and the urun/crun extensions.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "linux/mounts/mounts.hpp"

namespace {

using urun::linux::parse_mount_options;
using urun::linux::propagation_flags;

TEST(MountOptions, DevTmpfsOfTheDefaultSpec) {
  auto o = parse_mount_options({"nosuid", "strictatime", "mode=755", "size=65536k"});
  EXPECT_EQ(o.flags, MS_NOSUID | MS_STRICTATIME);
  EXPECT_EQ(o.data, "mode=755,size=65536k");
  EXPECT_FALSE(o.bind());
  EXPECT_TRUE(o.propagation.empty());
  EXPECT_EQ(o.attr_set, 0u);
  EXPECT_EQ(o.attr_clr, 0u);
}

TEST(MountOptions, DevptsDataKeepsOrder) {
  auto o = parse_mount_options(
      {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  EXPECT_EQ(o.flags, MS_NOSUID | MS_NOEXEC);
  EXPECT_EQ(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
}

TEST(MountOptions, AllSimpleFlags) {
  auto o = parse_mount_options({"ro", "nosuid", "nodev", "noexec", "sync", "dirsync", "remount",
                                "mand", "noatime", "nodiratime", "nosymfollow"});
  EXPECT_EQ(o.flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_DIRSYNC |
                         MS_REMOUNT | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_NOSYMFOLLOW);
  EXPECT_EQ(o.data, "");
}

TEST(MountOptions, LaterOptionWins) {
  auto o = parse_mount_options({"ro", "nosuid", "rw", "suid", "exec", "noexec"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOEXEC));
  EXPECT_EQ(o.clear_flags & (MS_RDONLY | MS_NOSUID), MS_RDONLY | MS_NOSUID);
  EXPECT_EQ(o.clear_flags & MS_NOEXEC, 0u);
}

TEST(MountOptions, NegativeFlagsAreRecordedAsCleared) {
  auto o = parse_mount_options({"rw", "dev", "async", "nomand", "atime", "diratime", "norelatime",
                                "nostrictatime", "symfollow"});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.clear_flags, MS_RDONLY | MS_NODEV | MS_SYNCHRONOUS | MS_MANDLOCK | MS_NOATIME |
                               MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW);
}

TEST(MountOptions, OneAtimeModeAtATime) {
  auto o = parse_mount_options({"noatime", "relatime"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RELATIME));
  auto s = parse_mount_options({"relatime", "strictatime"});
  EXPECT_EQ(s.flags, static_cast<unsigned long>(MS_STRICTATIME));
}

TEST(MountOptions, BindAndRbind) {
  auto b = parse_mount_options({"bind", "ro"});
  EXPECT_TRUE(b.bind());
  EXPECT_FALSE(b.rbind());
  EXPECT_EQ(b.flags, MS_BIND | MS_RDONLY);
  auto r = parse_mount_options({"rbind", "rprivate"});
  EXPECT_TRUE(r.bind());
  EXPECT_TRUE(r.rbind());
  ASSERT_EQ(r.propagation.size(), 1u);
  EXPECT_EQ(r.propagation[0], MS_REC | MS_PRIVATE);
  EXPECT_EQ(r.data, "");
}

TEST(MountOptions, PropagationInOrder) {
  auto o = parse_mount_options(
      {"private", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", "rprivate"});
  std::vector<unsigned long> want = {
      MS_PRIVATE,        MS_SHARED,     MS_REC | MS_SHARED,     MS_SLAVE,
      MS_REC | MS_SLAVE, MS_UNBINDABLE, MS_REC | MS_UNBINDABLE, MS_REC | MS_PRIVATE};
  EXPECT_EQ(o.propagation, want);
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(propagation_flags("rslave"), MS_REC | MS_SLAVE);
  EXPECT_EQ(propagation_flags("ro"), 0u);
}

TEST(MountOptions, RecursiveFlags) {
  auto o =
      parse_mount_options({"rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime"});
  EXPECT_EQ(o.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                            MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME);
  EXPECT_EQ(o.attr_clr, 0u);
  EXPECT_EQ(o.flags, 0u) << "recursive options are not mount(2) flags";
  EXPECT_EQ(o.data, "");

  auto c = parse_mount_options({"rro", "rrw", "rsuid", "rdev", "rexec", "rsymfollow", "rdiratime"});
  EXPECT_EQ(c.attr_set, 0u);
  EXPECT_EQ(c.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                            MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME);
}

TEST(MountOptions, RecursiveAtimeClearsTheWholeField) {
  auto n = parse_mount_options({"rnoatime"});
  EXPECT_EQ(n.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  EXPECT_EQ(n.attr_set, static_cast<uint64_t>(MOUNT_ATTR_NOATIME));
  auto s = parse_mount_options({"rnoatime", "rstrictatime"});
  EXPECT_EQ(s.attr_set, static_cast<uint64_t>(MOUNT_ATTR_STRICTATIME));
  auto r = parse_mount_options({"rstrictatime", "rrelatime", "rnodev"});
  EXPECT_EQ(r.attr_set, MOUNT_ATTR_RELATIME | MOUNT_ATTR_NODEV);
  EXPECT_EQ(r.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  for (const char *opt : {"ratime", "rnostrictatime", "rnorelatime"}) {
    auto o = parse_mount_options({"rnoatime", opt});
    EXPECT_EQ(o.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME)) << opt;
    EXPECT_EQ(o.attr_set & MOUNT_ATTR_NOATIME, 0u) << opt;
  }
}

TEST(MountOptions, RecursiveFlagsWithoutAnAttributeAreIgnored) {
  auto o = parse_mount_options({"rsync", "rasync", "rdirsync", "rmand", "rnomand"});
  EXPECT_EQ(o.data, "");
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.attr_set | o.attr_clr, 0u);
}

TEST(MountOptions, UnknownOptionsGoToData) {
  auto o = parse_mount_options({"rfoo", "mode=1777", "size=10%", "ro", "uid=0"});
  EXPECT_EQ(o.data, "rfoo,mode=1777,size=10%,uid=0");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RDONLY));
}

TEST(MountOptions, Defaults) {
  auto o = parse_mount_options({"defaults"});
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.data, "");
}

TEST(MountOptions, Extensions) {
  auto t = parse_mount_options({"tmpcopyup", "mode=755"});
  EXPECT_TRUE(t.tmpcopyup);
  EXPECT_EQ(t.data, "mode=755");
  EXPECT_FALSE(parse_mount_options({"tmpcopyup", "notmpcopyup"}).tmpcopyup);
  auto c = parse_mount_options({"bind", "copy-symlink"});
  EXPECT_TRUE(c.copy_symlink);
  EXPECT_EQ(c.data, "");
}

TEST(MountOptions, IdmapKeepsItsMappingRaw) {
  auto plain = parse_mount_options({"idmap"});
  EXPECT_TRUE(plain.idmap);
  EXPECT_FALSE(plain.idmap_recursive);
  EXPECT_EQ(plain.idmap_spec, "");
  auto m = parse_mount_options({"rbind", "idmap=uids=0-1-10#10-11-10;gids=0-100-10"});
  EXPECT_TRUE(m.idmap);
  EXPECT_EQ(m.idmap_spec, "uids=0-1-10#10-11-10;gids=0-100-10");
  EXPECT_EQ(m.data, "");
  auto r = parse_mount_options({"ridmap=uids=@1-3-10"});
  EXPECT_TRUE(r.idmap);
  EXPECT_TRUE(r.idmap_recursive);
  EXPECT_EQ(r.idmap_spec, "uids=@1-3-10");
}

}  // namespace
