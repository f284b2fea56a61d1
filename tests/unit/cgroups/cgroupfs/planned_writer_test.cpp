// PlannedWriter: a plan's writes in order, consecutive writes to one file through one fd, each
// still its own write (cgroupfs parses each write as one command; in this test tree, O_APPEND
// keeps every write), and the fallback and errors of write_planned for the others.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cgroups/cgroupfs/cgroupfs_util.hpp"
#include "common/error.hpp"
#include "temp_dir.hpp"

namespace {

using namespace urun::cgroups;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Write write_of(const std::string& file, const std::string& value) {
  Write w;
  w.controller = "devices";
  w.file = file;
  w.value = value;
  return w;
}

TEST(PlannedWriter, EveryWriteArrivesInOrderAcrossFiles) {
  urun_test::TempDir dir("urun-writer");
  for (const char* f : {"devices.allow", "devices.deny"}) std::ofstream(dir.path() + "/" + f);
  detail::PlannedWriter writer;
  writer.write(dir.path(), write_of("devices.deny", "a"));
  writer.write(dir.path(), write_of("devices.allow", "c 1:3 rwm"));
  writer.write(dir.path(), write_of("devices.allow", "c 1:5 rwm"));
  writer.write(dir.path(), write_of("devices.deny", "c 5:1 rwm"));
  writer.write(dir.path(), write_of("devices.allow", "c 1:9 rwm"));
  EXPECT_EQ(slurp(dir.path() + "/devices.allow"), "c 1:3 rwmc 1:5 rwmc 1:9 rwm");
  EXPECT_EQ(slurp(dir.path() + "/devices.deny"), "ac 5:1 rwm");
}

TEST(PlannedWriter, AMissingFileIsStillAnErrorNamingIt) {
  urun_test::TempDir dir("urun-writer");
  std::ofstream(dir.path() + "/devices.allow");
  detail::PlannedWriter writer;
  writer.write(dir.path(), write_of("devices.allow", "a"));
  try {
    writer.write(dir.path(), write_of("devices.list", "x"));
    FAIL() << "no error for a missing file";
  } catch (const urun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("devices.list"), std::string::npos) << e.what();
  }
  writer.write(dir.path(), write_of("devices.allow", "b"));
  EXPECT_EQ(slurp(dir.path() + "/devices.allow"), "ab");
}

}  // namespace
