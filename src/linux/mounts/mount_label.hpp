#pragma once
// linux.mountLabel: the SELinux context of the file systems urun mounts for the container
// (tmpfs, devpts, mqueue...), given to the kernel as the `context="..."` mount option, as runc
// and crun do. Like the process label (linux/lsm.hpp) it is applied only where the host runs
// SELinux, so that one config runs on hosts with and without it.
#include <string>
#include <string_view>

namespace urun::linux {

// spec/validate.cpp refuses a label with a double quote, newline or NUL, which would end or
// split `context="..."`.
// The mount data for a file system of `type` with `label` added (unchanged when label is empty,
// and for proc and sysfs, whose contexts come from the policy, as runc and crun leave them).
std::string with_mount_label(const std::string& data, std::string_view type,
                             std::string_view label);

}  // namespace urun::linux
