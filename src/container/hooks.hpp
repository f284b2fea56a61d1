#pragma once
// OCI hooks: each runs with the container state JSON on stdin, its own args
// and env (nothing inherited), and an optional timeout in seconds.
//
// What each kind sees and what its failure does (runtime-spec 1.3, runtime.md
// "Lifecycle"; crun agrees):
//   prestart, createRuntime, createContainer  status "created"; failure fails create (or run)
//   startContainer                            status "created"; failure stops the container
//   poststart                                 status "running"; failure fails start (or run),
//                                             and the container is killed and deleted
//   poststop                                  status "stopped"; failure is a warning and the
//                                             next poststop hook still runs
// Every failure from prestart on continues the lifecycle at its step 12: the container is
// destroyed and the poststop hooks run.
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"
#include "spec/spec.hpp"

namespace urun::container {

struct HookIo {
  int stdout_fd = -1;  // -1: the hook's stdout goes to /dev/null
  int stderr_fd = -1;  // -1: the hook's stderr goes to urun's stderr
};

// Runs the hooks in order; the first that fails (non-zero exit, killed by a
// signal, timed out, cannot start) throws Error("<kind> hook `path`: <why>").
// kind is the spec's name: "prestart", "createRuntime", "poststop", ...
void run_hooks(std::string_view kind, const std::vector<spec::Hook>& hooks,
               const std::string& state_json, const HookIo& io);

// The poststop hooks, whose failure is a warning: container/hook_runs.hpp.

// The files named by the run.oci.hooks.stdout / run.oci.hooks.stderr
// annotations, opened (created, append mode; relative paths from the bundle).
struct HookOutput {
  UniqueFd stdout_file;
  UniqueFd stderr_file;
  HookIo io() const { return {stdout_file.get(), stderr_file.get()}; }
};
HookOutput open_hook_output(const spec::Spec& spec, const std::string& bundle);

}  // namespace urun::container
