#pragma once
// The ENOSYS stub of a seccomp program (runc's "patchbpf"): a few instructions put before
// libseccomp's program so that a syscall numbered above every syscall the profile names fails
// with ENOSYS instead of the profile's default action.
//
// Why: a profile lists the syscalls its authors knew. A syscall added to the kernel later is
// unknown to it and gets the default action, typically EPERM, and a C library that tries the new
// call first (clone3, faccessat2, openat2...) takes EPERM as a real refusal and fails, where
// ENOSYS, the answer of a kernel without that syscall, makes it fall back to the old call.
// Syscalls in the profile's range keep the profile's answers, its explicit rules included: the
// stub only decides above the newest syscall named. libseccomp cannot express "every number
// above N" as a rule, and adding one rule per newer syscall it knows would lengthen the program
// every syscall runs through; the stub costs about five instructions.
#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace urun::linux {

// The newest syscall a profile names on one of its architectures.
struct NewestSyscall {
  uint32_t arch;  // SCMP_ARCH_* token
  uint32_t nr;    // its number there (x32's with bit 30 set, as the kernel sees them)
};

// Whether a profile whose default action is `default_action` gets the stub: not when the default
// lets a syscall through (ALLOW, LOG, TRACE: a tracer handles new syscalls itself), nor when it
// already answers ENOSYS. KILL and TRAP defaults get it, as in runc.
bool wants_enosys_stub(uint32_t default_action);

// For each architecture of the filter (`archs`, libseccomp tokens; the native one is added, as
// libseccomp's filter always has it), the highest number any of `names` has there. An
// architecture none of the names resolves on is left out: a profile that names nothing denies
// everything as it says (runc warns and does the same).
std::vector<NewestSyscall> newest_named_syscalls(const std::vector<std::string>& names,
                                                 std::vector<uint32_t> archs);

// The stub for those architectures, to put before libseccomp's program: it checks the
// architecture, returns ENOSYS for a number above that architecture's newest, and jumps to the
// first instruction after itself (libseccomp's program) otherwise, or for an architecture it
// does not know (the program then applies its bad-architecture action). Empty for no
// architectures.
std::vector<sock_filter> enosys_stub(const std::vector<NewestSyscall>& newest);

}  // namespace urun::linux
