#include "container/hook_runs.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "container/hooks.hpp"
#include "container/status.hpp"

namespace urun::container {

void run_poststop_hooks(const spec::Spec& spec, const std::string& bundle,
                        const std::string& state_json, const std::string& context) noexcept {
  if (spec.hooks.poststop.empty()) return;
  try {
    HookOutput out;
    try {
      out = open_hook_output(spec, bundle);
    } catch (const Error& e) {
      // The hooks still run, their output where it goes without the annotations.
      log::warning(context + ": poststop hooks: " + e.what());
    }
    for (const auto& hook : spec.hooks.poststop) {
      try {
        run_hooks("poststop", {hook}, state_json, out.io());
      } catch (const Error& e) {
        log::warning(context + ": " + e.what());
      }
    }
  } catch (const std::exception& e) {
    log::warning(context + ": poststop hooks: " + e.what());
  }
}

void run_stopped_hooks(const spec::Spec& spec, const state::Record& record,
                       const std::string& context) noexcept {
  std::string state_json;
  try {
    state_json = oci_state_json(record, "stopped");
  } catch (const std::exception& e) {
    log::warning(context + ": poststop hooks: " + e.what());
    return;
  }
  run_poststop_hooks(spec, record.bundle, state_json, context);
}

}  // namespace urun::container
