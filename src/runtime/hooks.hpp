#pragma once
// The OCI hook runner: each hook runs with the container state JSON on stdin, its own args
// and env (nothing inherited), and an optional timeout in seconds. Both sides run hooks: the
// parent (container/: prestart, createRuntime, poststart, poststop) and the init
// (createContainer, startContainer), so the runner sits in runtime/, below container/.
// Which kind runs when and what its failure does: container/hooks.hpp.
#include <string>
#include <string_view>
#include <vector>

#include "spec/spec.hpp"

namespace urun::runtime {

struct HookIo {
  int stdout_fd = -1;  // -1: the hook's stdout goes to /dev/null
  int stderr_fd = -1;  // -1: the hook's stderr goes to urun's stderr
};

// Runs one hook; when it fails (non-zero exit, killed by a signal, timed out, cannot
// start) throws Error("<kind> hook `path`: <why>"). kind is the spec's name: "prestart",
// "createRuntime", "poststop", ...
void run_hook(std::string_view kind, const spec::Hook& hook, const std::string& state_json,
              const HookIo& io);

// Runs the hooks in order; the first that fails throws as run_hook does.
void run_hooks(std::string_view kind, const std::vector<spec::Hook>& hooks,
               const std::string& state_json, const HookIo& io);

}  // namespace urun::runtime
