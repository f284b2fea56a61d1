// linux/shared_mount_ns: what a container without a mount namespace of its own goes without.
#include "linux/mounts/shared_mount_ns.hpp"

#include <gtest/gtest.h>

namespace {

using nlohmann::json;

urun::spec::Spec spec_with(const json& patch) {
  json j = {{"ociVersion", "1.2.0"},
            {"process", {{"args", {"sh"}}, {"cwd", "/"}}},
            {"root", {{"path", "rootfs"}}},
            {"linux", json::object()}};
  j.merge_patch(patch);
  return urun::spec::from_json(j);
}

json mount(const char* dest) { return {{"destination", dest}, {"type", "tmpfs"}}; }

TEST(SharedMountNamespace, NamesWhatIsNotApplied) {
  EXPECT_EQ(urun::linux::unapplied_mount_settings(spec_with(json::object())), "");
  EXPECT_EQ(urun::linux::unapplied_mount_settings(spec_with({{"mounts", {mount("/tmp")}}})),
            "1 mount");
  EXPECT_EQ(urun::linux::unapplied_mount_settings(
                spec_with({{"mounts", {mount("/tmp"), mount("/run")}},
                           {"linux", {{"rootfsPropagation", "rslave"}}}})),
            "2 mounts and linux.rootfsPropagation");
  json device = {{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}};
  EXPECT_EQ(urun::linux::unapplied_mount_settings(
                spec_with({{"mounts", {mount("/tmp")}},
                           {"linux", {{"devices", {device}}, {"rootfsPropagation", "private"}}}})),
            "1 mount, 1 linux.devices entry and linux.rootfsPropagation");
}

}  // namespace
