#include "runtime/caller.hpp"

#include <unistd.h>

#include "linux/process_attrs.hpp"

namespace urun::runtime {

bool Caller::is_unprivileged() { return ::geteuid() != 0; }

Caller Caller::detect() {
  Caller c;
  c.unprivileged = is_unprivileged();
  // Read /proc/self/uid_map only for root.
  c.rootless = c.unprivileged || !linux::in_initial_user_namespace();
  return c;
}

}  // namespace urun::runtime
