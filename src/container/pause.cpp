// pause, resume: freeze and thaw every process of the container through its cgroup.
#include "common/error.hpp"
#include "container/cgroup.hpp"
#include "container/commands.hpp"
#include "container/open_container.hpp"
#include "state/store.hpp"

namespace urun::container {

void pause(const GlobalOptions& global, const std::string& id) {
  // Exclusive and held while freezing: an exec holds the lock shared until its
  // process has exec'd, so no process is frozen half-started (see exec.cpp).
  OpenedContainer opened = open_container(global, id, Lock::exclusive);
  require_status(opened, {"running", "created"});
  const state::Record& rec = opened.record;
  auto cgroup = cgroup_of(rec);
  if (cgroup->kind() == "disabled")
    throw Error("container " + quote(id) + " has no cgroup: pausing needs a freezer", ENOTSUP);
  cgroup->freeze();
}

void resume(const GlobalOptions& global, const std::string& id) {
  state::Record rec = record_in_status(global, id, {"paused"});
  cgroup_of(rec)->thaw();
}

}  // namespace urun::container
