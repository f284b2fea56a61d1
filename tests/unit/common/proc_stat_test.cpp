// proc_stat_field / proc_stat_number: fields of /proc/<pid>/stat as proc(5) numbers them, after
// a comm that may hold spaces and ')'.
#include "common/proc_stat.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

// A line of this kernel's /proc/self/stat, 52 fields, with a hostile comm.
const std::string kLine =
    "4242 (a) (b) c) R 1 4242 4242 0 -1 4194560 300 0 0 0 10 20 0 0 20 0 1 0 987654 8000000 700 "
    "18446744073709551615 94000000000000 94000002000000 140700000000000 0 0 0 0 0 0 0 0 0 17 1 0 "
    "0 0 0 0 94000002100000 94000002200000 94000010000000 140700000001000 140700000001100 "
    "140700000001100 140700000001200 0\n";

TEST(ProcStat, FieldsAreNumberedAsInProc5) {
  EXPECT_EQ(urun::proc_stat_field(kLine, 3), "R");
  EXPECT_EQ(urun::proc_stat_number(kLine, 4), 1u);
  EXPECT_EQ(urun::proc_stat_number(kLine, 22), 987654u);
  EXPECT_EQ(urun::proc_stat_number(kLine, 26), 94000000000000u);   // start_code
  EXPECT_EQ(urun::proc_stat_number(kLine, 28), 140700000000000u);  // start_stack
  EXPECT_EQ(urun::proc_stat_number(kLine, 45), 94000002100000u);   // start_data
  EXPECT_EQ(urun::proc_stat_number(kLine, 51), 140700000001200u);  // env_end
  EXPECT_EQ(urun::proc_stat_number(kLine, 52), 0u);                // exit_code, before "\n"
}

TEST(ProcStat, MissingOrMalformedFieldsAreEmpty) {
  EXPECT_EQ(urun::proc_stat_field(kLine, 53), "");
  EXPECT_EQ(urun::proc_stat_field(kLine, 2), "");  // comm is not a field to split
  EXPECT_FALSE(urun::proc_stat_number(kLine, 3));  // "R" is not a number
  EXPECT_FALSE(urun::proc_stat_number("12 (no close paren S 1 2 3", 4));
  EXPECT_FALSE(urun::proc_stat_number("12 (x) S -5 1", 4));
  EXPECT_FALSE(urun::proc_stat_number("", 22));
}

}  // namespace
