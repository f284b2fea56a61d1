#pragma once
// `delete --force` of a container whose state.json is broken: what may be
// killed is decided from identity.json alone (the record create wrote first,
// see state/store.hpp), and only what it proves to be the container's: its
// cgroup (made for it at create, which refuses a cgroup that already has
// processes), or without one its init named by pid AND start time (a pid
// alone may have been reused by any process since).
#include <string>

#include "state/store.hpp"

namespace urun::container {

struct RecoveryPlan {
  bool kill_cgroup = false;  // kill the identity's cgroup and remove it
  bool kill_init = false;    // kill the init if pid and start time still match
  // Why nothing could be identified ("" when something could).
  std::string unproven;
};

RecoveryPlan plan_recovery(const state::LoadedRecord& identity);

}  // namespace urun::container
