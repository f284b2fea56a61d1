// Which LSM labels the child writes: only for a module the host runs, in the form the
// kernel's attribute files take; a label that cannot be written fails before clone.
#include "linux/lsm.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace {

using urun::linux::lsm_labels;
using urun::linux::LsmHost;

urun::spec::Process process(std::optional<std::string> profile, std::optional<std::string> label) {
  urun::spec::Process p;
  p.apparmor_profile = std::move(profile);
  p.selinux_label = std::move(label);
  return p;
}

TEST(LsmLabels, NoneAskedNoneWritten) {
  EXPECT_TRUE(lsm_labels(process({}, {}), LsmHost{true, true}).empty());
  // Empty strings, as some clients write them, mean none.
  EXPECT_TRUE(lsm_labels(process("", ""), LsmHost{true, true}).empty());
}

TEST(LsmLabels, HostWithoutTheModuleIgnoresTheLabel) {
  // crun: a profile for a module the host does not run is ignored, not an error.
  auto labels = lsm_labels(process("urun-default", "system_u:system_r:container_t:s0"),
                           LsmHost{false, false});
  EXPECT_TRUE(labels.empty());
  labels =
      lsm_labels(process("urun-default", "system_u:system_r:container_t:s0"), LsmHost{true, false});
  EXPECT_EQ(labels.apparmor, "exec urun-default");
  EXPECT_EQ(labels.selinux, "");
}

TEST(LsmLabels, EnabledModulesGetTheirWrites) {
  auto labels =
      lsm_labels(process("p", "system_u:system_r:container_t:s0:c1,c2"), LsmHost{true, true});
  EXPECT_EQ(labels.apparmor, "exec p");
  EXPECT_EQ(labels.selinux, "system_u:system_r:container_t:s0:c1,c2");
}

TEST(LsmLabels, UnwritableLabelFailsNamingTheField) {
  try {
    lsm_labels(process("a\nchangeprofile b", {}), LsmHost{false, false});
    FAIL() << "a profile with a newline was accepted";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("process.apparmorProfile"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lsm_labels(process({}, std::string("x\0y", 3)), LsmHost{true, true}), urun::Error);
}

}  // namespace
