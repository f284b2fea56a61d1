#pragma once
// cgroup v1 (legacy) and hybrid hosts through the file system: one directory per mounted
// hierarchy (memory, pids, "cpu,cpuacct", name=systemd...) and, on hybrid hosts, one in
// the cgroup2 tree at root/unified, which offers cgroup.kill and cgroup.freeze.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/manager.hpp"
#include "common/unique_fd.hpp"

namespace urun::cgroups {

struct Hierarchy {
  std::string name;                      // directory under the root: "cpu,cpuacct", "unified"
  std::vector<std::string> controllers;  // "cpu", "cpuacct"; "name=systemd"; empty for v2
  bool unified = false;                  // the cgroup2 tree of a hybrid host
};

// The hierarchies mounted under root: every directory (symlinks such as cpu ->
// cpu,cpuacct are skipped) with a cgroup.procs; one with cgroup.controllers is cgroup2.
std::vector<Hierarchy> list_hierarchies(const std::string& root);

// The key a hierarchy has in /proc/<pid>/cgroup ("" for cgroup2, "cpu,cpuacct",
// "name=systemd").
std::string proc_cgroup_key(const Hierarchy& h);

class CgroupfsV1 : public Manager {
 public:
  // paths: hierarchy name (as in list_hierarchies) -> the container's path in it.
  CgroupfsV1(std::string root, std::map<std::string, std::string> paths);
  // The same path in every hierarchy found under root.
  static CgroupfsV1 same_path(const std::string& root, const std::string& path);

  std::string kind() const override { return "cgroupfs"; }
  std::string cgroupfs_root() const override { return root_; }
  std::string path() const override;
  using Manager::create;  // create(pid)
  void create() override;
  void claim() override;
  void undo_create() override;
  // The cgroup2 tree's directory on a hybrid host (opened by create() or
  // open_self_join_files()), else -1.
  int dir_fd() const override { return unified_fd_.get(); }
  // The v1 hierarchies' `tasks` files; one that cannot be opened is joined by the parent.
  std::vector<SelfJoinFile> open_self_join_files() override;
  void add_process(pid_t pid) override;
  void add_process_after_clone(pid_t pid, bool in_dir_fd) override;
  void apply(const Resources& resources) override;
  void freeze() override;
  void thaw() override;
  bool is_frozen() override;
  std::vector<pid_t> pids() override;
  void kill_all(int sig) override;
  void destroy() override;
  nlohmann::json to_state() const override;
  std::map<std::string, std::string> hierarchy_paths() const override { return paths_; }

  // Directory of the container's cgroup in the hierarchy holding controller (or the
  // hierarchy named so, e.g. "unified"); "" when not mounted.
  std::string dir_for(const std::string& controller) const;
  const std::map<std::string, std::string>& paths() const { return paths_; }

 private:
  void init_cpuset(const std::string& hierarchy_dir, const std::string& path);
  // Raises the realtime budget of the cpu cgroup's ancestors where it lacks (rt_budget.hpp).
  void make_realtime_room(const CpuResources& cpu);
  void set_frozen(bool frozen);

  std::string root_;
  std::map<std::string, std::string> paths_;
  // Hierarchy -> the directories create() made there, outermost first (none: the
  // container's cgroup existed before in that hierarchy).
  std::map<std::string, std::vector<std::string>> made_;
  bool claimed_ = false;
  UniqueFd unified_fd_;                // see dir_fd()
  std::set<std::string> self_joined_;  // hierarchies open_self_join_files() opened
  // The ancestors make_realtime_room raised, with their runtime before, outermost first:
  // undo_create puts back those it does not remove.
  std::vector<std::pair<std::string, int64_t>> rt_raised_;
};

}  // namespace urun::cgroups
