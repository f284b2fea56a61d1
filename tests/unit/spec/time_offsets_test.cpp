// spec/time_offsets: the run.oci.timens_offset annotation ("ID SEC NSEC" lines), its merge with
// linux.timeOffsets, and validate()'s checks of it against the time namespace. Pure.
#include "spec/time_offsets.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "spec/valid_config.hpp"

namespace {

using nlohmann::json;
using urun::spec::parse_timens_offset;

std::string error_of_parse(const std::string& value) {
  try {
    parse_timens_offset(value);
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), EINVAL) << e.what();
    return e.what();
  }
  return "<valid>";
}

json config(bool time_ns, const json& patch = json::object()) {
  json namespaces = json::array({{{"type", "mount"}}});
  if (time_ns) namespaces.push_back({{"type", "time"}});
  return urun_test::valid_config(std::move(namespaces), patch);
}

std::string error_of_validate(const json& j) { return urun_test::validate_error(j); }

json annotation(const std::string& value) {
  return {{"annotations", {{"run.oci.timens_offset", value}}}};
}

TEST(TimensOffsetAnnotation, NamesAndClockNumbers) {
  auto off = parse_timens_offset("monotonic 5 100");
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off.at("monotonic").secs, 5);
  EXPECT_EQ(off.at("monotonic").nanosecs, 100u);
  // CLOCK_BOOTTIME is 7, CLOCK_MONOTONIC 1, as /proc/PID/timens_offsets takes them.
  off = parse_timens_offset("7 -3600 0\n1 86400 999999999\n");
  ASSERT_EQ(off.size(), 2u);
  EXPECT_EQ(off.at("boottime").secs, -3600);
  EXPECT_EQ(off.at("monotonic").secs, 86400);
  EXPECT_EQ(off.at("monotonic").nanosecs, 999999999u);
  // Extra blanks and empty lines are fine.
  EXPECT_EQ(parse_timens_offset("  boottime\t10   0 \n\n").at("boottime").secs, 10);
}

TEST(TimensOffsetAnnotation, BadValuesAreRefused) {
  EXPECT_EQ(error_of_parse(""), "run.oci.timens_offset: empty value (want `ID SEC NSEC`)");
  EXPECT_EQ(error_of_parse("realtime 1 0"),
            "run.oci.timens_offset: `realtime 1 0`: unknown clock `realtime` (want monotonic, "
            "boottime, 1 or 7)");
  EXPECT_EQ(error_of_parse("0 1 0"),
            "run.oci.timens_offset: `0 1 0`: unknown clock `0` (want monotonic, boottime, 1 or 7)");
  EXPECT_EQ(error_of_parse("monotonic 1"),
            "run.oci.timens_offset: `monotonic 1`: want `ID SEC NSEC`");
  EXPECT_EQ(error_of_parse("monotonic 1 0 0"),
            "run.oci.timens_offset: `monotonic 1 0 0`: want `ID SEC NSEC`");
  EXPECT_EQ(error_of_parse("monotonic 1s 0"),
            "run.oci.timens_offset: `monotonic 1s 0`: seconds `1s` is not a valid number");
  EXPECT_EQ(error_of_parse("monotonic 99999999999999999999 0"),
            "run.oci.timens_offset: `monotonic 99999999999999999999 0`: seconds "
            "`99999999999999999999` is not a valid number");
  EXPECT_EQ(error_of_parse("monotonic 1 -5"),
            "run.oci.timens_offset: `monotonic 1 -5`: nanoseconds `-5` is not a valid number");
  EXPECT_EQ(error_of_parse("boottime 1 1000000000"),
            "run.oci.timens_offset: `boottime 1 1000000000`: nanoseconds must be below "
            "1000000000");
  EXPECT_EQ(error_of_parse("boottime 1 0\n7 2 0"),
            "run.oci.timens_offset: `7 2 0`: the boottime clock is given twice");
}

TEST(TimensOffsetAnnotation, MergesWithTimeOffsetsAndRefusesAClockSetTwice) {
  json both = config(true, annotation("monotonic 3 0"));
  both["linux"]["timeOffsets"] = {{"boottime", {{"secs", 5}, {"nanosecs", 0}}}};
  auto merged = urun::spec::effective_time_offsets(urun::spec::from_json(both));
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged.at("monotonic").secs, 3);
  EXPECT_EQ(merged.at("boottime").secs, 5);
  EXPECT_EQ(urun::spec::timens_offsets_text(merged), "boottime 5 0\nmonotonic 3 0\n");

  json clash = config(true, annotation("boottime 3 0"));
  clash["linux"]["timeOffsets"] = {{"boottime", {{"secs", 5}}}};
  EXPECT_EQ(error_of_validate(clash),
            "run.oci.timens_offset: the boottime clock's offset is also set by "
            "linux.timeOffsets");
}

TEST(TimensOffsetAnnotation, NeedsANewTimeNamespace) {
  EXPECT_EQ(error_of_validate(config(true, annotation("boottime 100 0"))), "<valid>");
  EXPECT_EQ(error_of_validate(config(false, annotation("boottime 100 0"))),
            "annotation run.oci.timens_offset: requires a time namespace (a \"time\" entry in "
            "linux.namespaces); without one the offsets would be ignored");
  json joined = config(false, annotation("boottime 100 0"));
  joined["linux"]["namespaces"].push_back({{"type", "time"}, {"path", "/proc/1/ns/time"}});
  EXPECT_EQ(error_of_validate(joined),
            "annotation run.oci.timens_offset: cannot be set on a time namespace joined by path "
            "`/proc/1/ns/time`; only on one the container creates");
  // A bad value fails validation, with or without a time namespace.
  EXPECT_EQ(error_of_validate(config(false, annotation("boottime x 0"))),
            "run.oci.timens_offset: `boottime x 0`: seconds `x` is not a valid number");
}

}  // namespace
