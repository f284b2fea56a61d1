// process.apparmorProfile / process.selinuxLabel and exec --apparmor / --process-label. On a host
// that runs neither AppArmor nor SELinux, crun ignores them: the container and the exec'd
// process run as without them.
#include <sys/statfs.h>

#include "harness.hpp"

namespace urun_it {
namespace {

bool apparmor_enabled() {
  return read_file("/sys/module/apparmor/parameters/enabled").starts_with("Y");
}
bool selinux_enabled() {
  struct statfs sfs {};
  return ::statfs("/sys/fs/selinux", &sfs) == 0 && sfs.f_type == 0xf97cff8c;
}

class Lsm : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (apparmor_enabled() || selinux_enabled())
      GTEST_SKIP() << "the host runs AppArmor or SELinux: these tests are for hosts without";
  }
};

TEST_P(Lsm, LabelsInTheConfigAreIgnoredWithoutTheModule) {
  Bundle b = make_bundle();
  b.config["process"]["apparmorProfile"] = "urun-it-profile";
  b.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2";
  b.sh("echo ran");
  b.save();
  Result r = run_container(b, "c1");
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
}

TEST_P(Lsm, ExecOptionsAreIgnoredWithoutTheModule) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "c1"));
  ASSERT_RUN_OK(rt().run({"start", "c1"}));
  Result r = rt().run({"exec", "--apparmor", "urun-it-profile", "--process-label",
                       "system_u:system_r:container_t:s0", "c1", "sh", "-c", "echo ran; exit 4"});
  EXPECT_EQ(r.exit_code, 4) << r.describe();
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
}

TEST_P(Lsm, UnwritableProfileFailsInOneLine) {
  if (is_runc()) GTEST_SKIP() << "runc's wording differs";
  Bundle b = make_bundle();
  b.config["process"]["apparmorProfile"] = "a\nchangeprofile b";
  b.save();
  Result r = create(b, "c1");
  expect_clean_failure(r, "process.apparmorProfile");
}

TEST_P(Lsm, UnwritableExecLabelFailsNamingTheOption) {
  if (is_runc()) GTEST_SKIP() << "runc's wording differs";
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "c1"));
  ASSERT_RUN_OK(rt().run({"start", "c1"}));
  Result r = rt().run({"exec", "--apparmor", "a\nb", "c1", "true"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
  EXPECT_NE(r.err_lines()[0].find("--apparmor"), std::string::npos) << r.describe();
  Result l = rt().run({"exec", "--process-label", "a\nb", "c1", "true"});
  EXPECT_NE(l.exit_code, 0) << l.describe();
  ASSERT_EQ(l.err_lines().size(), 1u) << l.describe();
  EXPECT_NE(l.err_lines()[0].find("--process-label"), std::string::npos) << l.describe();
}

URUN_IT_INSTANTIATE(Lsm);

}  // namespace
}  // namespace urun_it
