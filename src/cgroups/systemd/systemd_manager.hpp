#pragma once
// The systemd cgroup manager: the container's cgroup is a transient scope unit that
// systemd makes (StartTransientUnit with the init's pid, Delegate=yes) in the slice the
// cgroupsPath names, so systemd knows the container and never moves or limits its
// processes behind the runtime's back. Once the scope exists, the cgroupfs managers do
// the rest inside it: on cgroup v2 the init moves to a sub-cgroup of the scope
// (run.oci.systemd.subgroup, "container" by default; optionally a further delegated
// cgroup, run.oci.delegate-cgroup), and the resources are written there as files; the
// main limits are also given to systemd as unit properties (MemoryMax, MemoryLow,
// TasksMax, CPUWeight or CPUShares, CPUQuota), so systemd's view of the scope matches.
//
// A scope needs a process, so nothing exists before the init does: create() makes
// nothing, apply() before that keeps the resources, and the first add_process() (the
// launcher's join_cgroup) starts the scope and applies them. dir_fd() is -1: the init
// joins by pid, not with CLONE_INTO_CGROUP.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/factory.hpp"
#include "cgroups/systemd/systemd_bus.hpp"

namespace urun::cgroups {

struct SystemdConfig {
  std::string bus_address;  // D-Bus address of the systemd instance
  std::string root;         // the cgroup root (a test tree in tests)
  Layout layout = Layout::unified;
  std::string slice;            // "system.slice"
  std::string unit;             // "urun-c1.scope"
  std::string subgroup;         // "" or a name below the scope (v2)
  std::string delegate;         // run.oci.delegate-cgroup (v2)
  bool delegate_later = false;  // ManagerRequest::delegate_after_cgroupns
  std::string description;      // the unit's Description
};

// The properties of the scope's StartTransientUnit: Description, Slice, Delegate, PIDs,
// DefaultDependencies=no, the accounting switches for the resources given, and the
// resource properties below.
std::vector<systemd::Property> scope_properties(const SystemdConfig& config, pid_t pid,
                                                const Resources& resources);
// The limits systemd keeps as unit properties (used at start and by update).
std::vector<systemd::Property> resource_properties(const Resources& resources, bool unified);

class Systemd : public Manager {
 public:
  // bus: an open connection to use (connected on first use when null).
  explicit Systemd(SystemdConfig config, std::unique_ptr<systemd::Bus> bus = nullptr);
  ~Systemd() override;
  static std::unique_ptr<Manager> from_state(const nlohmann::json& state);

  std::string kind() const override { return "systemd"; }
  // The container's cgroup: the scope's (or its sub-cgroup); before the scope exists,
  // where systemd is expected to put it.
  std::string path() const override;
  using Manager::create;  // create(pid)
  void create() override {}
  // Before the scope exists: refuses a frozen slice (where systemd's system instance puts
  // it; a user instance's slices are elsewhere and not checked). A scope of the same name
  // that exists already is refused by systemd itself (UnitExists) in add_process().
  void claim() override;
  // Stops and removes the scope only if this manager started it: a unit systemd refused
  // to start is another container's.
  void undo_create() override;
  void add_process(pid_t pid) override;
  void enter_delegate(pid_t pid) override {
    if (inner_) inner_->enter_delegate(pid);
  }
  void apply(const Resources& resources) override;
  void freeze() override;
  void thaw() override;
  bool is_frozen() override;
  std::vector<pid_t> pids() override;
  void kill_all(int sig) override;
  void destroy() override;
  nlohmann::json to_state() const override;
  // Known once the scope exists: systemd decides where it goes (a user manager's slices
  // sit below its own cgroup, so the path cannot be guessed from the slice name).
  std::map<std::string, std::string> hierarchy_paths() const override {
    return inner_ ? inner_->hierarchy_paths() : std::map<std::string, std::string>{};
  }
  bool paths_after_join() const override { return !inner_; }

  const SystemdConfig& config() const { return config_; }
  // The scope's cgroup as systemd reports it; "" before the scope exists.
  const std::string& scope_cgroup() const { return scope_; }

 private:
  systemd::Bus& bus();
  void start_scope(pid_t pid);
  std::unique_ptr<Manager> cgroupfs_in(const std::string& path) const;
  // The directories whose freezer state stops a process in the cgroup at path.
  std::vector<std::string> freezer_dirs(const std::string& path) const;
  Manager& inner(const char* what);

  SystemdConfig config_;
  std::unique_ptr<systemd::Bus> bus_;
  std::string scope_;
  bool started_ = false;            // this manager started the unit (StartTransientUnit succeeded)
  std::unique_ptr<Manager> inner_;  // the cgroupfs manager of scope_[/subgroup]
  std::optional<Resources> pending_;
};

// The systemd manager for a request, or null with the reason it cannot be had (no bus,
// systemd not on it, a cgroupsPath that is not slice:prefix:name when the choice was
// automatic, rootless without cgroup v2). Throws on a configuration error.
std::unique_ptr<Manager> make_systemd_manager(const ManagerRequest& request, bool automatic,
                                              std::string& reason);

}  // namespace urun::cgroups
