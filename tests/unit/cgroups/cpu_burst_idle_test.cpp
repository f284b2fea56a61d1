// CPU burst and idle (runtime-spec linux.resources.cpu.burst / idle; `update --cpu-burst
// --cpu-idle`): written on v2 and v1 alike, and a kernel without the knob is an error that
// says so, never a limit dropped in silence.
#include <gtest/gtest.h>

#include <fstream>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "cgroups/resources.hpp"
#include "common/error.hpp"
#include "temp_dir.hpp"

namespace {

using namespace urun::cgroups;

Resources burst_and_idle() {
  Resources r;
  r.cpu.emplace();
  r.cpu->burst = 20000;
  r.cpu->idle = 1;
  return r;
}

const Write* find(const std::vector<Write>& plan, const std::string& file) {
  for (const auto& w : plan)
    if (w.file == file) return &w;
  return nullptr;
}

TEST(CpuBurstIdle, PlannedOnV2AndV1AsRequiredWrites) {
  auto v2 = plan_v2(burst_and_idle());
  ASSERT_NE(find(v2, "cpu.max.burst"), nullptr);
  EXPECT_EQ(find(v2, "cpu.max.burst")->value, "20000");
  ASSERT_NE(find(v2, "cpu.idle"), nullptr);
  EXPECT_EQ(find(v2, "cpu.idle")->value, "1");
  auto v1 = plan_v1(burst_and_idle());
  ASSERT_NE(find(v1, "cpu.cfs_burst_us"), nullptr);
  EXPECT_EQ(find(v1, "cpu.cfs_burst_us")->value, "20000");
  ASSERT_NE(find(v1, "cpu.idle"), nullptr);
  for (const auto* w : {find(v2, "cpu.max.burst"), find(v2, "cpu.idle"),
                        find(v1, "cpu.cfs_burst_us"), find(v1, "cpu.idle")}) {
    EXPECT_FALSE(w->optional) << w->file << " would be skipped where the kernel lacks it";
    EXPECT_FALSE(w->missing_reason.empty()) << w->file;
  }
}

TEST(CpuBurstIdle, MissingKnobIsAnErrorNamingTheKernel) {
  urun_test::TempDir dir("urun-burst");
  auto v1 = plan_v1(burst_and_idle());
  try {
    detail::write_planned(dir.path(), *find(v1, "cpu.cfs_burst_us"));
    FAIL() << "no error for a missing cpu.cfs_burst_us";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Linux 5.14"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cpu.cfs_burst_us"), std::string::npos) << e.what();
  }
  try {
    detail::write_planned(dir.path(), *find(v1, "cpu.idle"));
    FAIL() << "no error for a missing cpu.idle";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Linux 5.15"), std::string::npos) << e.what();
  }
  // Present, the value is written.
  std::ofstream(dir.path() + "/cpu.cfs_burst_us").flush();  // O_APPEND writes: start empty
  detail::write_planned(dir.path(), *find(v1, "cpu.cfs_burst_us"));
  std::ifstream in(dir.path() + "/cpu.cfs_burst_us");
  std::string value;
  in >> value;
  EXPECT_EQ(value, "20000");
}

}  // namespace
