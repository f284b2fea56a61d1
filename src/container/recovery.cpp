#include "container/recovery.hpp"

#include "common/error.hpp"

namespace urun::container {

RecoveryPlan plan_recovery(const state::LoadedRecord& identity) {
  RecoveryPlan plan;
  if (identity.broken()) {
    plan.unproven = identity.problem;
    return plan;
  }
  if (!identity.ok()) {
    plan.unproven = quote(identity.file) + " is missing";
    return plan;
  }
  const state::Record& rec = identity.record;
  bool has_cgroup = false;
  if (rec.cgroup.is_object()) {
    auto m = rec.cgroup.find("manager");
    has_cgroup = m != rec.cgroup.end() && m->is_string() && m->get<std::string>() != "disabled";
  }
  if (has_cgroup) {
    plan.kill_cgroup = true;
    return plan;
  }
  if (rec.pid > 0 && rec.pid_start_time != 0) {
    plan.kill_init = true;
    return plan;
  }
  plan.unproven = quote(identity.file) + " names neither a cgroup nor an init with its start time";
  return plan;
}

}  // namespace urun::container
