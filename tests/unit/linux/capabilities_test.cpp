#include "linux/capabilities.hpp"

#include <gtest/gtest.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "in_child.hpp"
#include "linux/process_attrs.hpp"

namespace {

using urun::linux::capability_from_name;

TEST(CapName, AcceptsUpperLowerAndUnprefixedNames) {
  EXPECT_EQ(capability_from_name("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(capability_from_name("cap_chown"), CAP_CHOWN);
  EXPECT_EQ(capability_from_name("chown"), CAP_CHOWN);
  EXPECT_EQ(capability_from_name("Cap_Net_Bind_Service"), CAP_NET_BIND_SERVICE);
  EXPECT_EQ(capability_from_name("SYS_ADMIN"), CAP_SYS_ADMIN);
}

TEST(CapName, UnknownNamesAreMinusOne) {
  EXPECT_EQ(capability_from_name("CAP_BOGUS"), -1);
  EXPECT_EQ(capability_from_name(""), -1);
  EXPECT_EQ(capability_from_name("CAP_"), -1);
  // libcap's numeric and text syntaxes are not capability names.
  EXPECT_EQ(capability_from_name("12"), -1);
  EXPECT_EQ(capability_from_name("all"), -1);
  EXPECT_EQ(capability_from_name("cap_chown=ep"), -1);
}

TEST(CapName, NamesPastTheKernelsLastCapAreUnknown) {
  EXPECT_EQ(capability_from_name("CAP_SYSLOG", CAP_SYSLOG), CAP_SYSLOG);
  EXPECT_EQ(capability_from_name("CAP_SYSLOG", CAP_SYSLOG - 1), -1);
  EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE", 39), -1);
  EXPECT_EQ(capability_from_name("CAP_CHOWN", 39), CAP_CHOWN);
}

TEST(CapName, LastCapabilityMatchesProc) {
  std::ifstream f("/proc/sys/kernel/cap_last_cap");
  int expected = -1;
  if (!(f >> expected)) GTEST_SKIP() << "/proc/sys/kernel/cap_last_cap is not readable";
  EXPECT_EQ(urun::linux::last_capability(), expected);
  // Every capability up to the kernel's last is resolvable by some name.
  EXPECT_EQ(capability_from_name("CAP_CHOWN"), 0);
}

// Parses a hex mask line ("CapEff:\t0000000000000400") from /proc/self/status.
uint64_t status_mask(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1), nullptr, 16);
  }
  return ~0ULL;
}

std::string read_status() {
  std::ifstream f("/proc/self/status");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

using urun_test::in_child;

bool have_setpcap() {
  uint64_t eff = status_mask(read_status(), "CapEff");
  return geteuid() == 0 && (eff & (1ULL << CAP_SETPCAP)) && (eff & (1ULL << CAP_SETUID));
}

TEST(CapApply, UserWithOnlyNetBindServiceInAllSetsAndAmbient) {
  if (!have_setpcap()) GTEST_SKIP() << "needs root with CAP_SETPCAP and CAP_SETUID";
  int code = in_child([] {
    urun::spec::Capabilities caps;
    caps.bounding = {"CAP_NET_BIND_SERVICE"};
    caps.effective = caps.permitted = caps.inheritable = caps.ambient = {"CAP_NET_BIND_SERVICE"};
    urun::linux::drop_bounding_set(caps);
    urun::spec::User user;
    user.uid = 1000;
    user.gid = 1000;
    user.additional_gids = {5};
    urun::linux::set_user(user, false);
    urun::linux::apply_capabilities(caps);
    std::string st = read_status();
    const uint64_t want = 1ULL << CAP_NET_BIND_SERVICE;
    if (status_mask(st, "CapEff") != want) return 1;
    if (status_mask(st, "CapPrm") != want) return 2;
    if (status_mask(st, "CapInh") != want) return 3;
    if (status_mask(st, "CapAmb") != want) return 4;
    if (status_mask(st, "CapBnd") != want) return 5;
    if (st.find("Uid:\t1000\t1000\t1000\t1000") == std::string::npos) return 6;
    if (st.find("Gid:\t1000\t1000\t1000\t1000") == std::string::npos) return 7;
    if (st.find("Groups:\t5 \n") == std::string::npos) return 8;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(CapApply, CapabilitiesUrunLacksAreLeftOutNotFatal) {
  if (!have_setpcap()) GTEST_SKIP() << "needs root with CAP_SETPCAP and CAP_SETUID";
  uint64_t bnd = status_mask(read_status(), "CapBnd");
  int missing = -1;
  for (int cap = 0; cap <= urun::linux::last_capability(); ++cap) {
    if (!(bnd & (1ULL << cap))) {
      missing = cap;
      break;
    }
  }
  if (missing < 0) GTEST_SKIP() << "urun holds every capability; nothing to leave out";
  int code = in_child([missing] {
    urun::spec::Capabilities caps;
    char* raw = cap_to_name(static_cast<cap_value_t>(missing));
    std::string name = raw;
    cap_free(raw);
    caps.bounding = caps.effective = caps.permitted = caps.inheritable =
        caps.ambient = {"CAP_KILL", name};
    urun::linux::drop_bounding_set(caps);
    urun::linux::apply_capabilities(caps);
    std::string st = read_status();
    const uint64_t want = 1ULL << CAP_KILL;
    if (status_mask(st, "CapEff") != want) return 1;
    if (status_mask(st, "CapPrm") != want) return 2;
    if (status_mask(st, "CapAmb") != want) return 3;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(CapApply, EffectiveOutsidePermittedIsAnError) {
  int code = in_child([] {
    urun::spec::Capabilities caps;
    caps.effective = {"CAP_CHOWN", "CAP_KILL"};
    caps.permitted = {"CAP_KILL"};
    try {
      urun::linux::apply_capabilities(caps);
    } catch (const urun::Error& e) {
      std::string msg = e.what();
      if (msg.find("`CAP_CHOWN`") == std::string::npos) return 2;
      if (msg.find("Operation not permitted") == std::string::npos) return 3;
      return e.code() == EPERM ? 0 : 4;
    }
    return 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(CapApply, UnknownNameIsAnError) {
  urun::spec::Capabilities caps;
  caps.permitted = {"CAP_BOGUS"};
  try {
    urun::linux::apply_capabilities(caps);
    FAIL() << "apply_capabilities accepted CAP_BOGUS";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("`CAP_BOGUS`"), std::string::npos) << e.what();
  }
}

}  // namespace
