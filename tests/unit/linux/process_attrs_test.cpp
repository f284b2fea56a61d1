#include "linux/process_attrs.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "in_child.hpp"

namespace {

using urun::linux::rlimit_from_name;

using urun_test::in_child;

TEST(RlimitName, EveryLinuxLimitIsKnown) {
  const std::pair<const char*, int> all[] = {
      {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
      {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  static_assert(std::size(all) == RLIM_NLIMITS);
  for (const auto& [name, value] : all) EXPECT_EQ(rlimit_from_name(name), value) << name;
}

TEST(RlimitName, UnknownIsMinusOne) {
  EXPECT_EQ(rlimit_from_name("RLIMIT_BOGUS"), -1);
  EXPECT_EQ(rlimit_from_name("NOFILE"), -1);
  EXPECT_EQ(rlimit_from_name(""), -1);
}

TEST(RlimitApply, SetsSoftAndHardLimits) {
  int code = in_child([] {
    urun::linux::apply_rlimits({{"RLIMIT_NOFILE", 512, 256}, {"RLIMIT_CORE", 0, 0}});
    rlimit nofile{}, core{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_CORE, &core);
    if (nofile.rlim_cur != 256 || nofile.rlim_max != 512) return 1;
    if (core.rlim_cur != 0 || core.rlim_max != 0) return 2;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(RlimitApply, RaisingTheHardLimitWithoutPrivilegeNamesTheLimit) {
  // Lower the hard limit, drop the capability that would allow raising it
  // again (here: become an unprivileged user), then ask for more.
  int code = in_child([] {
    rlimit low{64, 64};
    if (setrlimit(RLIMIT_NOFILE, &low) != 0) return 10;
    if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) return 11;
    try {
      urun::linux::apply_rlimits({{"RLIMIT_NOFILE", 128, 128}});
    } catch (const urun::Error& e) {
      return std::string(e.what()) == "set rlimit `RLIMIT_NOFILE`: Operation not permitted" ? 0 : 2;
    }
    return 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(RlimitApply, UnknownLimitIsAnError) {
  try {
    urun::linux::apply_rlimits({{"RLIMIT_BOGUS", 1, 1}});
    FAIL() << "accepted RLIMIT_BOGUS";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(), "set rlimit `RLIMIT_BOGUS`: unknown limit");
  }
}

TEST(SysctlApply, RejectsBadKeyBeforeWritingAnything) {
  const auto proc = urun::linux::ProcFs::open();
  try {
    // kernel.osrelease sorts first: a write attempted before the bad key is refused would fail
    // on it (harmlessly: it is read-only) and name it instead.
    urun::linux::apply_sysctl(proc, {{"zz/../../etc/passwd", "x"}, {"kernel.osrelease", "x"}});
    FAIL() << "accepted a key leaving /proc/sys";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("`zz/../../etc/passwd`"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), EINVAL);
  }
}

TEST(SysctlApply, UnknownKeyNamesTheKey) {
  try {
    urun::linux::apply_sysctl(urun::linux::ProcFs::open(), {{"urun.no_such_key", "1"}});
    FAIL() << "wrote a non-existent sysctl";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(),
                 "set sysctl `urun.no_such_key`: open `/proc/sys/urun/no_such_key`: No such file "
                 "or directory");
  }
}

TEST(SetUser, SwitchesIdsGroupsAndUmask) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  int code = in_child([] {
    urun::spec::User user;
    user.uid = 1234;
    user.gid = 2345;
    user.additional_gids = {7, 8};
    user.umask = 027;
    urun::linux::set_user(user, false);
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    if (r != 1234 || e != 1234 || s != 1234) return 1;
    gid_t gr, ge, gs;
    getresgid(&gr, &ge, &gs);
    if (gr != 2345 || ge != 2345 || gs != 2345) return 2;
    gid_t groups[8];
    int n = getgroups(8, groups);
    if (n != 2 || groups[0] != 7 || groups[1] != 8) return 3;
    mode_t old = umask(0);
    if (old != 027) return 4;
    return 0;
  });
  EXPECT_EQ(code, 0);
}

TEST(SetUser, KeepOriginalGroupsLeavesGroupsAlone) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  int code = in_child([] {
    gid_t before[64];
    int n_before = getgroups(64, before);
    urun::spec::User user;
    user.uid = 1234;
    user.gid = 2345;
    user.additional_gids = {7};
    urun::linux::set_user(user, true);
    gid_t after[64];
    int n_after = getgroups(64, after);
    if (n_after != n_before) return 1;
    for (int i = 0; i < n_after; ++i) {
      if (after[i] != before[i]) return 2;
    }
    return 0;
  });
  EXPECT_EQ(code, 0);
}

// Run in a child that is (or becomes) unprivileged, so the test never skips:
// CI runs it as root.
TEST(SetUser, FailureNamesTheId) {
  int code = in_child([] {
    if (geteuid() == 0 &&
        (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0))
      return 10;
    urun::spec::User user;
    user.uid = 0;
    user.gid = getegid();
    try {
      urun::linux::set_user(user, true);
      return 11;  // an unprivileged user became root
    } catch (const urun::Error& e) {
      return std::string(e.what()) == "set uid `0`: Operation not permitted" ? 0 : 12;
    }
  });
  EXPECT_EQ(code, 0) << "10: could not drop privileges, 11: became root, 12: wrong message";
}

// In a user namespace whose setgroups is denied (a rootless single mapping),
// no additional groups means setgroups is skipped; asking for some fails.
TEST(SetUser, SetgroupsDeniedInUserNamespace) {
  auto run = [](std::vector<uint32_t> gids) {
    return in_child([gids] {
      uid_t uid = geteuid();
      gid_t gid = getegid();
      if (unshare(CLONE_NEWUSER) != 0) return 20;
      auto write = [](const std::string& path, const std::string& data) {
        std::ofstream f(path);
        f << data;
        f.close();
        return !f.fail();
      };
      if (!write("/proc/self/setgroups", "deny")) return 21;
      if (!write("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n")) return 21;
      if (!write("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n")) return 21;
      urun::spec::User user;  // root of the namespace
      user.additional_gids = gids;
      try {
        urun::linux::set_user(user, false);
      } catch (const urun::Error& e) {
        return std::string(e.what()) == "set additional groups `0`: Operation not permitted" ? 1
                                                                                             : 2;
      }
      return 0;
    });
  };
  int without = run({});
  if (without == 20 || without == 21) GTEST_SKIP() << "cannot create a user namespace here";
  EXPECT_EQ(without, 0);
  EXPECT_EQ(run({0}), 1);
}

TEST(OomScoreAdj, WritesProcSelf) {
  int code = in_child([] {
    urun::linux::set_oom_score_adj(urun::linux::ProcFs::open(), 500);
    std::ifstream f("/proc/self/oom_score_adj");
    int value = 0;
    f >> value;
    return value == 500 ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(NoNewPrivs, IsSet) {
  int code = in_child([] {
    urun::linux::set_no_new_privs();
    std::ifstream f("/proc/self/status");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str().find("NoNewPrivs:\t1") != std::string::npos ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(SessionKeyring, JoinsANewKeyringOrReportsUnavailable) {
  int code = in_child([] {
    bool joined = urun::linux::join_new_session_keyring("_ses.urun-unit-test", false);
    if (!joined) return 20;  // keyctl refused in this sandbox: acceptable
    std::ifstream keys("/proc/keys");
    std::string line;
    while (std::getline(keys, line)) {
      if (line.find("_ses.urun-unit-test") != std::string::npos) {
        // Permission column (4th): the user-search bit (0x00080000) was added.
        std::istringstream in(line);
        std::string id, flags, usage, timeout, perm;
        in >> id >> flags >> usage >> timeout >> perm;
        unsigned long p = std::stoul(perm, nullptr, 16);
        return (p & 0x00080000) ? 0 : 2;
      }
    }
    return 3;
  });
  if (code == 20) GTEST_SKIP() << "keyctl is not available here";
  EXPECT_EQ(code, 0);
}

}  // namespace
