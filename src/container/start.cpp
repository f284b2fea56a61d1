// start: the created container's init, waiting on the exec fifo, goes on to its process.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "container/commands.hpp"
#include "container/creation.hpp"
#include "container/hooks.hpp"
#include "container/open_container.hpp"
#include "container/saved_config.hpp"
#include "container/status.hpp"
#include "container/teardown.hpp"

namespace urun::container {

void run_poststart(const spec::Spec& spec, state::ContainerDir& dir, const state::Record& rec,
                   const std::string& context) {
  if (spec.hooks.poststart.empty()) return;
  try {
    HookOutput out = open_hook_output(spec, rec.bundle);
    run_hooks("poststart", spec.hooks.poststart, oci_state_json(rec, "running"), out.io());
  } catch (const Error&) {
    try {
      destroy_container(dir, rec, true, &spec, context);
    } catch (const Error& cleanup) {
      log::warning(context + ": " + cleanup.what());
    }
    throw;
  }
}

void start(const GlobalOptions& global, const std::string& id) {
  OpenedContainer opened = open_container(global, id, Lock::exclusive, std::nullopt);
  state::ContainerDir& dir = opened.dir;
  state::Record& rec = opened.record;
  const std::string& status = opened.status;
  if (status != "created")
    throw Error("container " + quote(id) + " is not in created state (it is " + status + ")",
                EINVAL);
  UniqueFd fifo(::openat(dir.fd(), kExecFifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENXIO)
      throw Error("container " + quote(id) + " init is not waiting for start", ESRCH);
    throw_errno("open exec fifo");
  }
  if (::write(fifo.get(), "0", 1) != 1) throw_errno("signal start on exec fifo");
  ::unlinkat(dir.fd(), kExecFifo, 0);
  rec.status = "running";
  dir.write(rec);

  if (!rec.poststart_hooks) return;
  std::optional<spec::Spec> spec = read_saved_config(dir);
  if (!spec) return;
  run_poststart(*spec, dir, rec, "start " + quote(id));
}

}  // namespace urun::container
