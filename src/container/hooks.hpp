#pragma once
// OCI hooks in the container lifecycle. The runner itself is runtime/hooks.hpp (the init
// runs hooks too); this adds the poststop policy and the output files of the annotations.
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

#include "common/unique_fd.hpp"
#include "runtime/hooks.hpp"
#include "spec/spec.hpp"

namespace urun::container {

using runtime::HookIo;
using runtime::run_hooks;

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
