#pragma once
// The time namespace's clock offsets from both places a config may give them: linux.timeOffsets
// (runtime-spec 1.2+) and crun's older annotation run.oci.timens_offset ("ID SEC NSEC", the
// line format of /proc/PID/timens_offsets). Pure parsing: the init writes the result.
#include <map>
#include <string>
#include <string_view>

#include "spec/spec.hpp"

namespace urun::spec {

inline constexpr const char* kTimensOffsetAnnotation = "run.oci.timens_offset";

// Parses the annotation's value: one or more lines "ID SEC NSEC", ID being `monotonic`,
// `boottime` or the kernel's clock number (1, 7); SEC a signed integer, NSEC 0..999999999.
// Returns clock name -> offset. Throws Error (EINVAL) naming what is wrong, and a clock given
// twice.
std::map<std::string, TimeOffset> parse_timens_offset(std::string_view value);

// linux.timeOffsets merged with the annotation; a clock that both set is an error (they would
// contradict each other). Throws Error naming the annotation or the field.
std::map<std::string, TimeOffset> effective_time_offsets(const Spec& spec);

// The text written to /proc/self/timens_offsets: one "CLOCK SEC NSEC" line per clock.
std::string timens_offsets_text(const std::map<std::string, TimeOffset>& offsets);

}  // namespace urun::spec
