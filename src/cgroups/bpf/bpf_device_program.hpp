#pragma once
// linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE program: cgroup v2 has no
// devices.allow/deny files; the kernel asks a BPF program attached to the cgroup instead.
// Pure logic (no syscalls): bpf_attach.hpp loads and attaches the result.
//
// Semantics, for each access bit of a request (r, w, m) on its own: the last rule in
// the list that matches the device's type, major and minor and names that bit decides
// it; a bit no rule decides is denied. The request is allowed when every requested bit
// is. (An allow "c 1:3 r" after an allow "c 1:3 w" therefore grants rw, as the v1
// files do once they merge both rules into one entry, and a deny "c 1:3 w" after an
// allow "c 1:3 rwm" still lets a read through.)
//
// The program walks the rules from the last to the first, keeping the requested bits
// still undecided in R3:
//   deny rule matching:  if (R3 & access) return 0
//   allow rule matching: R3 &= ~access; if (R3 == 0) return 1
// and returns 0 at the end. A rule matching every device with access rwm ends the walk
// (nothing before it can matter).
#include <linux/bpf.h>

#include <vector>

#include "cgroups/resources.hpp"

namespace urun::cgroups {

// Throws urun::Error for a major or minor the program cannot compare (above 2^31 - 1;
// no real device has one) and for a type or access letter outside "abc" / "rwm".
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

// Whether any rule denies something: when none does, a cgroup without the program
// grants at least what the rules ask for, so failing to load it is not an error.
bool has_deny_rule(const std::vector<DeviceRule>& rules);

}  // namespace urun::cgroups
