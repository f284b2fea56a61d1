#pragma once
// A small sd-bus client for the calls the systemd cgroup manager makes on
// org.freedesktop.systemd1 (the manager's D-Bus API, see systemd's org.freedesktop.systemd1(5)):
// StartTransientUnit / StopUnit (waiting for the job's JobRemoved signal), GetUnit and
// the unit's ControlGroup property, SetUnitProperties, ResetFailedUnit. Errors are
// urun::Error with the D-Bus error's message: "start unit `x.scope`: Unit x.scope
// already exists."
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

struct sd_bus;
struct sd_bus_message;

namespace urun::cgroups::systemd {

// One unit property of the a(sv) arrays: b, t, s or au.
struct Property {
  std::string name;
  std::variant<bool, uint64_t, std::string, std::vector<uint32_t>> value;
};

class Bus {
 public:
  // Connects to the bus at address (a D-Bus address) as a bus client. Throws.
  explicit Bus(const std::string& address);
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  const std::string& address() const { return address_; }

  // Whether someone owns name on the bus (org.freedesktop.DBus.NameHasOwner).
  bool name_has_owner(const std::string& name);
  // StartTransientUnit(unit, "fail", properties, []) and waits for its job to end; a
  // job result other than "done" is an error.
  void start_transient_unit(const std::string& unit, const std::vector<Property>& properties);
  // StopUnit(unit, "replace") and waits for its job. A unit systemd does not know
  // (NoSuchUnit: already gone) is not an error.
  void stop_unit(const std::string& unit);
  // ResetFailedUnit(unit), so a failed unit does not keep its name; best effort.
  void reset_failed_unit(const std::string& unit) noexcept;
  // SetUnitProperties(unit, runtime=true, properties).
  void set_unit_properties(const std::string& unit, const std::vector<Property>& properties);
  // The unit's cgroup path below the cgroup root ("/system.slice/x.scope"): GetUnit, then
  // the ControlGroup property of org.freedesktop.systemd1.Scope.
  std::string control_group(const std::string& unit);

  // How long start and stop wait for their job (systemd itself times a scope out).
  std::chrono::milliseconds job_timeout{std::chrono::seconds(30)};

 private:
  struct JobWatch;
  std::string call_for_job(const char* method, const std::string& what, JobWatch& watch,
                           const std::function<void(sd_bus_message*)>& append);
  void wait_for_job(JobWatch& watch, const std::string& job, const std::string& what);

  std::string address_;
  sd_bus* bus_ = nullptr;
};

}  // namespace urun::cgroups::systemd
