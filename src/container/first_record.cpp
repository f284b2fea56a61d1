#include "container/first_record.hpp"

#include <unistd.h>

#include "common/error.hpp"
#include "common/log.hpp"
#include "userns/subid.hpp"

namespace urun::container {

state::Record creating_record(const std::string& id, const Bundle& bundle,
                              const cgroups::Manager& cgroup, bool systemd_cgroup, bool detached) {
  state::Record rec;
  rec.oci_version = bundle.spec.oci_version;
  rec.id = id;
  rec.status = "creating";
  rec.bundle = bundle.dir;
  rec.rootfs = bundle.rootfs;
  rec.config_path = bundle.config_path;
  rec.created = state::rfc3339_now();
  rec.owner_uid = ::geteuid();
  auto owner = userns::user_name(rec.owner_uid);
  rec.owner = owner ? *owner : std::to_string(rec.owner_uid);
  rec.systemd_cgroup = systemd_cgroup;
  rec.cgroup_manager = cgroup.kind();
  rec.cgroup_path = cgroup.path();
  if (rec.cgroup_manager != "disabled") rec.cgroup = cgroup.to_state();
  rec.detached = detached;
  rec.annotations = bundle.spec.annotations;
  rec.creator_pid = ::getpid();
  rec.creator_start_time = state::process_start_time(rec.creator_pid);
  return rec;
}

void remove_failed_state(state::ContainerDir& dir, const char* command) noexcept {
  try {
    dir.remove();
  } catch (const Error& e) {
    log::warning(std::string("remove state of failed ") + command + ": " + e.what());
  }
}

}  // namespace urun::container
