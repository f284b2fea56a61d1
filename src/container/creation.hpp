#pragma once
// What create, run and start share: the exec fifo's name, create's way from a bundle to an
// init waiting in "created" (container/create.cpp), and the poststart hooks of a container
// that has just started (container/start.cpp).
#include <memory>
#include <string>

#include "cgroups/manager.hpp"
#include "container/bundle.hpp"
#include "container/commands.hpp"
#include "runtime/launch_init.hpp"
#include "spec/spec.hpp"
#include "state/store.hpp"

namespace urun::container {

// In the state dir: the init blocks on it until start (or run) writes a byte.
inline constexpr const char* kExecFifo = "exec.fifo";

// A container on its way: the state dir, the launched init, its record.
struct Creation {
  std::unique_ptr<cgroups::Manager> cgroup;
  state::ContainerDir dir;
  runtime::LaunchedInit init;
  state::Record record;
  Bundle bundle;
};

// Everything create and run share. On failure nothing is left behind: the
// init is killed and reaped (ChildGuard) and the state dir removed.
Creation create_container(const GlobalOptions& global, const CreateRequest& req, bool foreground,
                          bool detach = true);

// The poststart hooks of a started container. One that fails fails the command
// (runtime-spec 1.3, crun 1.27): the container is killed and deleted, its poststop hooks
// run, and the hook's error is thrown.
void run_poststart(const spec::Spec& spec, state::ContainerDir& dir, const state::Record& rec,
                   const std::string& context);

}  // namespace urun::container
