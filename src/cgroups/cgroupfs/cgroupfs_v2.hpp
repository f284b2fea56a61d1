#pragma once
// cgroup v2 (unified) through the file system: one directory under root.
#include <string>

#include "cgroups/manager.hpp"
#include "common/unique_fd.hpp"

namespace urun::cgroups {

class CgroupfsV2 : public Manager {
 public:
  // root: the cgroup2 mount (or a test tree); path: "/a/b" below it. delegate: optional
  // sub-cgroup name (run.oci.delegate-cgroup) the processes run in, left to the payload.
  // delegate_later: the init first joins the container's cgroup and enters the delegate
  // with enter_delegate() (a cgroup namespace is made in between).
  CgroupfsV2(std::string root, std::string path, std::string delegate = "",
             bool delegate_later = false);

  std::string kind() const override { return "cgroupfs"; }
  std::string path() const override { return path_; }
  std::map<std::string, std::string> hierarchy_paths() const override { return {{"", path_}}; }
  using Manager::create;  // create(pid)
  void create() override;
  void claim() override;
  void undo_create() override;
  int dir_fd() const override { return dir_fd_.get(); }
  std::string cgroupfs_root() const override { return root_; }
  void add_process(pid_t pid) override;
  void enter_delegate(pid_t pid) override;
  void apply(const Resources& resources) override;
  void freeze() override;
  void thaw() override;
  bool is_frozen() override;
  std::vector<pid_t> pids() override;
  void kill_all(int sig) override;
  void destroy() override;
  nlohmann::json to_state() const override;

  // The directory of the container's cgroup (limits) and of its processes (delegate).
  std::string dir() const { return root_ + (path_ == "/" ? "" : path_); }
  std::string process_dir() const { return delegate_.empty() ? dir() : dir() + "/" + delegate_; }
  // Where a process joins now: the container's cgroup until enter_delegate().
  std::string join_dir() const { return delegate_later_ ? dir() : process_dir(); }

 private:
  void set_frozen(bool frozen);

  std::string root_;
  std::string path_;
  std::string delegate_;
  bool delegate_later_ = false;
  UniqueFd dir_fd_;
  std::vector<std::string> made_;  // the directories create() made, outermost first
  bool claimed_ = false;
};

// Enables in dir/cgroup.subtree_control every controller listed in dir/cgroup.controllers
// that is not enabled yet. Best effort: a cgroup with processes of its own cannot
// delegate (EBUSY), and the cpu controller refuses while realtime tasks exist; the
// missing controller then surfaces when apply() writes one of its files.
void enable_controllers(const std::string& dir);

}  // namespace urun::cgroups
