#pragma once
// Who runs urun: decided once per command (Caller::detect) and carried in the create plan, so
// that no other place asks geteuid() or reads /proc/self/uid_map for it.

namespace urun::runtime {

// Who runs urun, decided once per command.
struct Caller {
  // Not euid 0: needs an automatic user namespace, cannot set another user's scheduler.
  bool unprivileged = false;
  // Unprivileged, or root in a user namespace other than the initial one (rootless Podman
  // runs the runtime in its own): it cannot make device nodes or use the host's cgroups.
  bool rootless = false;
  static Caller detect();
  // The unprivileged half alone (exec needs no more).
  static bool is_unprivileged();
};

}  // namespace urun::runtime
