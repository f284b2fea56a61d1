#include "container/teardown.hpp"

#include <signal.h>

#include <chrono>
#include <optional>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "container/cgroup.hpp"
#include "container/hooks.hpp"
#include "container/processes.hpp"
#include "container/status.hpp"
#include "linux/resctrl.hpp"
#include "network/helper.hpp"

namespace urun::container {

void run_container_poststop(const state::ContainerDir& dir, const state::Record& rec,
                            const spec::Spec* spec, const std::string& context) noexcept {
  // The config copy is read only when the caller has no config (delete).
  std::optional<spec::Spec> copy;
  if (spec == nullptr) {
    try {
      auto text = dir.read_config();
      if (!text) return;
      spec = &copy.emplace(spec::parse(*text));
    } catch (const std::exception& e) {
      log::warning(context + ": poststop hooks not run: " + e.what());
      return;
    }
  }
  run_poststop_hooks(*spec, rec.bundle, oci_state_json(rec, "stopped"), context);
}

void destroy_container(state::ContainerDir& dir, const state::Record& rec, bool kill,
                       const spec::Spec* spec, const std::string& context) {
  if (kill) {
    try {
      signal_processes(rec, SIGKILL, true);
    } catch (const Error& e) {
      log::debug(e.what());  // gone already: the wait below decides
    }
    if (!wait_stopped(rec, std::chrono::seconds(10)))
      throw Error("container " + quote(rec.id) + " did not stop after SIGKILL", EBUSY);
  }
  // The keeper stops the network helper itself once the init has exited; delete does not
  // leave it to that, so that the helper and its ports are gone when delete returns.
  network::stop_helpers(rec.helper_pids, rec.helper_start_times);
  cgroup_of(rec)->destroy();
  linux::remove_resctrl_dirs(rec.resctrl_dirs);
  run_container_poststop(dir, rec, spec, context);
  dir.remove();
}

}  // namespace urun::container
