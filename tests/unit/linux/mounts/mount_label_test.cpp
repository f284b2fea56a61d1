// linux.mountLabel as the `context=` mount option (linux/mounts/mount_label.hpp).
#include "linux/mounts/mount_label.hpp"

#include <gtest/gtest.h>

namespace {

using urun::linux::with_mount_label;

TEST(MountLabel, AddedToTheData) {
  EXPECT_EQ(with_mount_label("", "tmpfs", "system_u:object_r:container_file_t:s0:c1,c2"),
            "context=\"system_u:object_r:container_file_t:s0:c1,c2\"");
  EXPECT_EQ(with_mount_label("mode=755,size=65536k", "tmpfs", "l"),
            "mode=755,size=65536k,context=\"l\"");
  EXPECT_EQ(with_mount_label("newinstance,ptmxmode=0666", "devpts", "l"),
            "newinstance,ptmxmode=0666,context=\"l\"");
  EXPECT_EQ(with_mount_label("", "mqueue", "l"), "context=\"l\"");
}

TEST(MountLabel, NoLabelOrProcAndSysfsLeaveTheDataAlone) {
  EXPECT_EQ(with_mount_label("mode=755", "tmpfs", ""), "mode=755");
  EXPECT_EQ(with_mount_label("", "proc", "l"), "");
  EXPECT_EQ(with_mount_label("", "sysfs", "l"), "");
}

}  // namespace
