#pragma once
// A cache of compiled seccomp programs, as crun keeps one. libseccomp needs
// ~25 ms of CPU for Podman's default profile (most of it for the x86 and x32
// sub-architectures), half of a container's start; loading the program again
// from a file costs well under a millisecond.
//
// An entry is `<dir>/<64-bit hash of the key>` holding the whole key then the
// program. The key is everything the program depends on: the urun build, the
// libseccomp version, the kernel (libseccomp adapts to its API level), the
// options and the profile itself. A hit compares the whole key, so a hash
// collision can only cost a compile, never load another profile's program.
// The directory lives in the state root (mode 0700, the caller's own): whoever
// can write there can already change the containers' state.
#include <functional>
#include <string>
#include <vector>

#include "linux/seccomp/seccomp.hpp"

namespace urun::linux {

// The cache directory for a state root ("<root>/.cache/seccomp").
std::string seccomp_cache_dir(const std::string& state_root);

// The program for `key` from the cache in `dir`, or compile() stored there.
// Any cache problem (unwritable directory, damaged entry) only means a
// compile: it is logged at debug level, never an error.
std::vector<sock_filter> cached_seccomp_program(
    const std::string& dir, const std::string& key,
    const std::function<std::vector<sock_filter>()>& compile);

// The key of a profile compiled with `options` by this build and libseccomp
// on this kernel.
std::string seccomp_cache_key(const nlohmann::json& profile, const SeccompOptions& options);

}  // namespace urun::linux
