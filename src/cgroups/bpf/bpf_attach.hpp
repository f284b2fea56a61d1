#pragma once
// The bpf(2) side of device control on cgroup v2: loads the program of
// bpf_device_program.hpp and attaches it to the container's cgroup, replacing the one
// attached before (update) without a moment where the cgroup has none.
// Needs CAP_SYS_ADMIN (or CAP_BPF) in the initial user namespace.
#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cgroups/resources.hpp"
#include "common/unique_fd.hpp"

namespace urun::cgroups {

// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program. Throws urun::Error with the errno and,
// when the verifier refused it, the verifier's last message.
UniqueFd load_device_program(const std::vector<bpf_insn>& insns);

// Ids of the device programs attached to this cgroup itself (not those it inherits).
std::vector<uint32_t> attached_device_programs(int cgroup_fd);

// Attaches prog_fd with BPF_F_ALLOW_MULTI, then detaches every device program that was
// attached to the cgroup before. In between both run and a device must pass both, so
// the cgroup is never without rules (at worst briefly stricter).
void replace_device_program(int cgroup_fd, int prog_fd);

// linux.resources.devices on the cgroup v2 directory dir: generate, load, replace.
// Nothing happens for an empty list (an update that does not mention devices). As crun
// does, a failure to load or attach is ignored (logged at debug) when running without
// root, where BPF is out of reach even in a delegated cgroup, and when no rule denies
// anything; otherwise it is an error. Invalid rules are always an error.
void set_device_rules(const std::string& dir, const std::vector<DeviceRule>& rules);

}  // namespace urun::cgroups
