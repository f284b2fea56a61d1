#pragma once
// cgroups::Manager: the container's cgroup in every hierarchy the host has. The parent
// side creates it before clone (v2: the child is cloned straight into it through
// dir_fd() with CLONE_INTO_CGROUP; v1: it moves itself through open_self_join_files()),
// applies the resources, and later commands rebuild
// the manager from the state record (to_state; cgroups/factory.hpp: manager_from_state)
// to pause, kill and delete. Implementations: CgroupfsV2 (cgroupfs_v2.hpp), CgroupfsV1
// (cgroupfs_v1.hpp, for legacy and hybrid hosts), Systemd (systemd_manager.hpp: a transient scope
// through sd-bus, with cgroupfs inside it) and Disabled (below).
#include <sys/types.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/resources.hpp"
#include "common/proc_cgroup.hpp"
#include "common/unique_fd.hpp"

namespace urun::cgroups {

inline constexpr const char* kDefaultRoot = "/sys/fs/cgroup";

// A cgroup v1 `tasks` file of the container's cgroup, opened by the parent for the init to
// write "0" to (see Manager::open_self_join_files).
struct SelfJoinFile {
  std::string path;  // for messages
  UniqueFd fd;
};

class Manager {
 public:
  virtual ~Manager() = default;

  // Manager name for the state record and `--debug`: "systemd", "cgroupfs" or "disabled".
  virtual std::string kind() const = 0;
  // The container's cgroup path as /proc/<pid>/cgroup shows it ("" when disabled); on
  // v1 the path in the pids hierarchy (paths may differ per hierarchy, see to_state).
  virtual std::string path() const = 0;
  // Makes the directories (existing ones are reused, and remembered as not this
  // create's: see undo_create). Throws urun::Error.
  virtual void create() = 0;
  // After create(), before any process joins: takes the cgroup for this container, or
  // throws an Error naming it, changing nothing, when it already has processes (another
  // container's, most likely: runc refuses it too, as pausing, killing or deleting this
  // container would reach them) or is frozen, itself or through an ancestor (the
  // container would hang at its first step, where runc and crun refuse it too).
  virtual void claim() = 0;
  // Undoes a create that failed, touching nothing it did not make: kills what runs in the
  // cgroup only once claim() has passed (the processes are then this create's), and
  // removes only the directories create() made, deepest first, in every hierarchy; a
  // directory that existed before is left where it was (without the processes this
  // create put there, with the limits it wrote).
  virtual void undo_create() = 0;
  // Directory fd of the cgroup a new process should start in (v2, or the cgroup2 tree of a
  // hybrid host), for clone3(CLONE_INTO_CGROUP); -1 when there is none (legacy v1, disabled).
  // Valid after create().
  virtual int dir_fd() const { return -1; }
  // After claim(), before the init is cloned (or before an exec'd process is: then dir_fd()
  // is valid after this call too, on a manager rebuilt from the state record): the files through
  // which the init moves itself into the container's cgroup, writing "0" first thing (v1 `tasks`).
  // A task moving itself, as one thread, spares the kernel the cgroup-wide lock a pid written to
  // cgroup.procs takes, which waits for an RCU grace period (milliseconds). The write is checked
  // against the credentials of the opener. Hierarchies without one are left to
  // add_process_after_clone.
  virtual std::vector<SelfJoinFile> open_self_join_files() { return {}; }
  // The cgroup file system root of a cgroupfs manager ("" for the others): restore binds the
  // new container's directories where the checkpointed ones were.
  virtual std::string cgroupfs_root() const { return ""; }
  // Moves pid into the cgroup, in every hierarchy.
  virtual void add_process(pid_t pid) = 0;
  // Moves a new init into the hierarchies it is not in yet: all but those it joined itself
  // through open_self_join_files() and, when in_dir_fd (it was cloned into dir_fd()), that one.
  virtual void add_process_after_clone(pid_t pid, bool in_dir_fd) {
    if (!in_dir_fd) add_process(pid);
  }
  // Writes the resources (the plan of resources.hpp). Used at create and by `update`.
  virtual void apply(const Resources& resources) = 0;
  // Freezes every process (waits until the kernel reports the cgroup frozen).
  virtual void freeze() = 0;
  virtual void thaw() = 0;
  virtual bool is_frozen() = 0;
  // Every process in the cgroup and its sub-cgroups, sorted.
  virtual std::vector<pid_t> pids() = 0;
  // Signals every process; for SIGKILL repeats until the cgroup is empty (or gives up
  // after a few seconds and throws).
  virtual void kill_all(int sig) = 0;
  // Kills what is left and removes the directories bottom-up in every hierarchy.
  // Idempotent: a cgroup already gone is not an error.
  virtual void destroy() = 0;
  // What a later command needs to rebuild this manager (store it in the state record).
  virtual nlohmann::json to_state() const = 0;
  // The container's cgroup per hierarchy, for its /sys/fs/cgroup: the hierarchy's
  // directory under the root ("memory", "cpu,cpuacct", "unified"; "" on a unified host)
  // -> the path below it. Empty when there is no cgroup.
  virtual std::map<std::string, std::string> hierarchy_paths() const { return {}; }
  // True while hierarchy_paths() cannot be known because the cgroup is made with its first
  // process (systemd: the scope and its path come from StartTransientUnit, in add_process).
  virtual bool paths_after_join() const { return false; }
  // run.oci.delegate-cgroup with a new cgroup namespace (delegate_after_cgroupns): the
  // init joins the container's cgroup, makes its namespace there, and only then moves to
  // the delegated sub-cgroup; this is that move (and the container's cgroup then hands
  // its controllers down, which it could not do while it held the init). No-op otherwise.
  virtual void enter_delegate(pid_t) {}

  void create(pid_t pid) {
    create();
    add_process(pid);
  }
};

// No cgroup at all: every operation is a no-op and pids() is empty (the runtime falls back
// to /proc to find the container's processes).
class Disabled : public Manager {
 public:
  std::string kind() const override { return "disabled"; }
  std::string path() const override { return ""; }
  using Manager::create;  // create(pid)
  void create() override {}
  void claim() override {}
  void undo_create() override {}
  void add_process(pid_t) override {}
  void apply(const Resources&) override {}
  void freeze() override;  // throws: pausing needs a freezer
  void thaw() override {}
  bool is_frozen() override { return false; }
  std::vector<pid_t> pids() override { return {}; }
  void kill_all(int) override {}
  void destroy() override {}
  nlohmann::json to_state() const override { return {{"manager", "disabled"}}; }
};

// ---- host layout and paths -----------------------------------------------------------

enum class Layout { unified, hybrid, legacy };
std::string_view layout_name(Layout layout);
// unified: root is cgroup2; hybrid: root is a tmpfs with v1 hierarchies and a cgroup2
// tree at root/unified; legacy: v1 only. Throws when root is none of these.
Layout detect_layout(const std::string& root = kDefaultRoot);

// "/a/./b/../c/" -> "/a/c"; the result always starts with '/' ("/" for the root).
// Throws Error when ".." would climb above the root: "cgroupsPath `../x`: leaves the
// cgroup tree".
std::string normalize_cgroup_path(std::string_view path);

// /proc/<pid>/cgroup: hierarchy key -> path (common/proc_cgroup.hpp).
using urun::parse_proc_cgroup;

// Where the container's cgroup goes, relative to the hierarchy root:
// absolute cgroupsPath -> as given; relative -> under own_cgroup (the caller's cgroup in
// that hierarchy); absent -> "/urun/<id>". Normalised; throws when it leaves the tree.
std::string resolve_cgroup_path(const std::optional<std::string>& cgroups_path,
                                const std::string& own_cgroup, const std::string& container_id);

}  // namespace urun::cgroups
