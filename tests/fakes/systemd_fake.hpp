#pragma once
// A private D-Bus daemon and a fake org.freedesktop.systemd1 on it, for testing the
// systemd cgroup manager's protocol without systemd (there is none on the test hosts).
//
// The fake implements what the manager calls on org.freedesktop.systemd1.Manager:
// StartTransientUnit (records the unit and its properties, makes the scope's cgroup in a
// fake cgroup tree, replies with a job and then emits JobRemoved; refuses a unit that
// exists, as systemd does), StopUnit (records it,
// job + JobRemoved), GetUnit, ResetFailedUnit, SetUnitProperties, and the unit object's
// org.freedesktop.systemd1.Scope.ControlGroup property. It runs its own sd-bus
// connection on a thread of the test process.
#include <sys/types.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct sd_bus;
struct sd_bus_message;

namespace urun_test {

// dbus-daemon with a session-type configuration listening on dir/bus.
class PrivateBus {
 public:
  explicit PrivateBus(const std::string& dir);
  ~PrivateBus();
  std::string address() const { return "unix:path=" + socket_; }

 private:
  std::string socket_;
  pid_t pid_ = -1;
};

struct UnitCall {
  std::string method;  // StartTransientUnit, StopUnit, SetUnitProperties, ResetFailedUnit
  std::string unit;
  std::string mode;
  std::map<std::string, std::string> properties;  // value as text: true, 42, s, 1,2
};

class FakeSystemd {
 public:
  // cgroup_root: the fake tree; hierarchies: where a scope's directory is made
  // ({""} for cgroup v2; the v1 hierarchy directory names otherwise; none to leave the
  // directories to the runtime, as on a real cgroup tree).
  FakeSystemd(std::string address, std::string cgroup_root,
              std::vector<std::string> hierarchies = {""});
  ~FakeSystemd();

  std::vector<UnitCall> calls();
  // The next StartTransientUnit fails with this D-Bus error (name, message).
  void fail_next_start(std::string name, std::string message);
  // Result reported by JobRemoved for the following jobs ("done" by default).
  void set_job_result(std::string result);
  // Directories below a new scope that the fake kernel should fill with knob files
  // too (a real kernel fills every new cgroup; mkdir on the fake tree makes none).
  void set_scope_children(std::vector<std::string> children);

 private:
  struct Unit;
  void run();
  friend struct FakeHandlers;  // the D-Bus method handlers (systemd_fake.cpp)
  int reply_with_job(sd_bus_message* m, const std::string& unit);

  std::string address_;
  std::string cgroup_root_;
  std::vector<std::string> hierarchies_;
  std::mutex mu_;
  std::vector<UnitCall> calls_;
  std::string fail_name_, fail_message_;
  std::string job_result_ = "done";
  std::vector<std::string> children_;
  std::map<std::string, std::string> unit_paths_;  // unit -> object path
  std::map<std::string, Unit*> units_;
  uint32_t next_job_ = 1;
  sd_bus* bus_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<int> ready_{0};  // 1 ready, -1 failed
  std::thread thread_;
};

// The knob files of a v2 cgroup (and v1 controller files), created empty.
void fill_cgroup_dir(const std::string& dir);

}  // namespace urun_test
