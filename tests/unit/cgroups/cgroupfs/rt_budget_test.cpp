// cgroup v1 realtime budget: the ancestors short of room for the container's realtime runtime
// are raised, outermost first, by what it needs; the root is never written. The real kernel's
// side is in tests/integration/realtime_test.cpp.
#include "cgroups/cgroupfs/rt_budget.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "temp_dir.hpp"

namespace {

namespace cg = urun::cgroups;
namespace sfs = std::filesystem;
using urun_test::TempDir;
using Writes = std::vector<std::pair<std::string, int64_t>>;

constexpr uint64_t kSecond = 1000000;

cg::RtLevel level(const std::string& dir, int64_t runtime, uint64_t others = 0,
                  uint64_t period = kSecond) {
  return {dir, period, runtime, others};
}

TEST(RtBudget, ShareIsTheKernelsFixedPointRatio) {
  EXPECT_EQ(cg::rt_share(kSecond, 0), 0u);
  EXPECT_EQ(cg::rt_share(kSecond, kSecond), 1u << 20);
  EXPECT_EQ(cg::rt_share(kSecond, 500000), 1u << 19);
  EXPECT_EQ(cg::rt_share(kSecond, -1), 1u << 20);  // no limit: the whole cpu
  EXPECT_EQ(cg::rt_share(3, 1), 349525u);          // rounded down, as the kernel does
}

TEST(RtBudget, FreshAncestorsAreRaisedToWhatTheContainerNeeds) {
  // root 950000/s (the kernel's default), /urun and /urun/pod made with 0.
  const Writes w =
      cg::plan_rt_room({level("/r", 950000), level("/r/urun", 0), level("/r/urun/pod", 0)},
                       cg::rt_share(kSecond, 20000));
  EXPECT_EQ(w, (Writes{{"/r/urun", 20000}, {"/r/urun/pod", 20000}}));
}

TEST(RtBudget, AncestorsWithRoomAreLeftAlone) {
  const Writes w = cg::plan_rt_room({level("/r", 950000), level("/r/urun", 300000)},
                                    cg::rt_share(kSecond, 20000));
  EXPECT_TRUE(w.empty());
}

TEST(RtBudget, SiblingsKeepTheirShareAndTheParentGrowsByTheNewOne) {
  // /urun holds 30000 for a running container: a second one of 20000 needs 50000 there.
  const Writes w = cg::plan_rt_room({level("/r", 950000, cg::rt_share(kSecond, 100000)),
                                     level("/r/urun", 30000, cg::rt_share(kSecond, 30000))},
                                    cg::rt_share(kSecond, 20000));
  EXPECT_EQ(w, (Writes{{"/r/urun", 50000}}));
}

TEST(RtBudget, AnotherPeriodGetsTheSameShare) {
  // A parent counted in 100 ms periods needs 1/50 of its period for 20 ms per second.
  const Writes w = cg::plan_rt_room({level("/r", 950000), level("/r/p", 0, 0, 100000)},
                                    cg::rt_share(kSecond, 20000));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].first, "/r/p");
  EXPECT_EQ(w[0].second, 2000);
  EXPECT_GE(cg::rt_share(100000, w[0].second), cg::rt_share(kSecond, 20000));
}

TEST(RtBudget, AnUnlimitedAncestorIsNotWritten) {
  const Writes w = cg::plan_rt_room({level("/r", -1), level("/r/a", -1), level("/r/a/b", 0)},
                                    cg::rt_share(kSecond, 20000));
  EXPECT_EQ(w, (Writes{{"/r/a/b", 20000}}));
}

TEST(RtBudget, TooLittleLeftInTheRootIsAnErrorThatSaysHowMuch) {
  try {
    cg::plan_rt_room({level("/r", 950000, cg::rt_share(kSecond, 940000)), level("/r/urun", 0)},
                     cg::rt_share(kSecond, 20000));
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), EINVAL);
    EXPECT_EQ(std::string(e.what()),
              "cgroup `/r` has 10000 us per 1000000 us of realtime runtime left, the container "
              "needs 20000 us per 1000000 us")
        << e.what();
  }
}

// On a fake tree (regular files): what make_rt_room reads and writes.
TEST(RtBudget, MakeRoomWritesTheAncestorsOfAFakeTree) {
  TempDir t("urun-rt-test");
  const sfs::path root = t.path();
  const std::string r = t.path();
  auto cgroup = [&](const sfs::path& dir, int64_t runtime) {
    sfs::create_directories(dir);
    std::ofstream(dir / "cpu.rt_period_us") << kSecond << "\n";
    std::ofstream(dir / "cpu.rt_runtime_us") << runtime << "\n";
  };
  // What was written last: urun appends to knob files (cgroupfs has no offsets), so the
  // value read back is the first one's line followed by the one written.
  auto runtime_of = [](const sfs::path& dir) {
    std::ifstream in(dir / "cpu.rt_runtime_us");
    int64_t v = -2;
    for (int64_t next; in >> next;) v = next;
    return v;
  };
  Writes raised;
  cgroup(root, 950000);
  cgroup(root / "other", 100000);  // a sibling's share stays its own
  cgroup(root / "base", 0);
  cgroup(root / "base" / "a", 0);
  cgroup(root / "base" / "a" / "ct", 0);
  cg::make_rt_room(r, "/base/a/ct", kSecond, 30000, raised);
  EXPECT_EQ(raised, (Writes{{r + "/base", 0}, {r + "/base/a", 0}}));
  EXPECT_EQ(runtime_of(root), 950000);
  EXPECT_EQ(runtime_of(root / "other"), 100000);
  EXPECT_EQ(runtime_of(root / "base"), 30000);
  EXPECT_EQ(runtime_of(root / "base" / "a"), 30000);
  EXPECT_EQ(runtime_of(root / "base" / "a" / "ct"), 0);  // the container's own: apply's write

  // A second container beside the first, once the first holds its runtime (the files as
  // the kernel would show them).
  for (const sfs::path& d : {root / "base", root / "base" / "a", root / "base" / "a" / "ct"})
    std::ofstream(d / "cpu.rt_runtime_us") << 30000 << "\n";
  cgroup(root / "base" / "a" / "ct2", 0);
  raised.clear();
  cg::make_rt_room(r, "/base/a/ct2", kSecond, 20000, raised);
  EXPECT_EQ(raised, (Writes{{r + "/base", 30000}, {r + "/base/a", 30000}}));
  EXPECT_EQ(runtime_of(root / "base"), 50000);
  EXPECT_EQ(runtime_of(root / "base" / "a"), 50000);

  // Nothing to do for no runtime, and none for a tree without the realtime files.
  raised.clear();
  cg::make_rt_room(r, "/base/a/ct2", kSecond, 0, raised);
  EXPECT_TRUE(raised.empty());
  EXPECT_NO_THROW(cg::make_rt_room(r + "/base/a/ct/nowhere", "/x", kSecond, 1, raised));
  EXPECT_TRUE(raised.empty());
}

}  // namespace
