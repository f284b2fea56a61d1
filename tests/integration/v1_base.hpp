// A fixture for tests on this host's real cgroup v1 (hybrid) hierarchies: each test works below
// its own directory BASE (/urun-it-<what>-<pid>) in every hierarchy, made by the test and removed
// with everything in it at the end (thawed, processes killed). Rootless, BASE is delegated to the
// test user (the directories and their cgroup.procs, cgroup.threads, cgroup.subtree_control and
// tasks are the user's, as a systemd user session's are) and the runtime runs in BASE/runtime of
// the cgroup2 tree, so that moving the init into BASE/<ct> there needs write access to the
// user's own cgroup.procs only.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness.hpp"

namespace urun_it {

// The processes in the cgroup directory `dir` (none when it is gone), sorted.
inline std::vector<pid_t> procs_of(const std::string& dir) {
  std::vector<pid_t> out;
  if (!path_exists(dir + "/cgroup.procs")) return out;
  for (const auto& l : split_lines(read_file(dir + "/cgroup.procs"))) out.push_back(std::stoi(l));
  std::sort(out.begin(), out.end());
  return out;
}

class V1Base : public IntegrationTest {
 protected:
  static constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
  static constexpr const char* kUnified = "unified";

  // what: names BASE ("/urun-it-<what>-<pid>"). Skips on a unified host.
  void set_up_base(const std::string& what) {
    if (path_exists(std::string(kCgroupRoot) + "/cgroup.controllers"))
      GTEST_SKIP() << "a unified host: these tests use the v1 hierarchies of a hybrid one";
    hierarchies_ = list_hierarchies();
    if (hierarchies_.empty()) GTEST_SKIP() << "no cgroup hierarchy under " << kCgroupRoot;
    base_ = "/urun-it-" + what + "-" + std::to_string(::getpid());
    for (const auto& h : hierarchies_) make_cgroup(h, base_);
    if (rootless() && has(kUnified)) {
      ASSERT_EQ(::mkdir(dir(kUnified, "/runtime").c_str(), 0755), 0);
    }
  }
  void TearDown() override {
    IntegrationTest::TearDown();
    if (base_.empty()) return;
    std::vector<std::string> dirs;
    for (const auto& h : hierarchies_) dirs.push_back(dir(h));
    remove_cgroup_trees(dirs);
  }

  bool has(const std::string& h) const {
    return std::find(hierarchies_.begin(), hierarchies_.end(), h) != hierarchies_.end();
  }
  // The hierarchy holding controller ("cpu" -> "cpu" or "cpu,cpuacct"); "" when none.
  std::string hierarchy_of(const std::string& controller) const {
    for (const auto& h : hierarchies_)
      if (("," + h + ",").find("," + controller + ",") != std::string::npos) return h;
    return "";
  }
  // BASE + sub in hierarchy h, as a host path.
  std::string dir(const std::string& h, const std::string& sub = "") const {
    return std::string(kCgroupRoot) + "/" + h + base_ + sub;
  }
  // kCgroupRoot/h/path as a host would have it: with its parent's cpus and memory nodes, and
  // the user's when rootless.
  void make_cgroup(const std::string& h, const std::string& path) {
    const std::string d = std::string(kCgroupRoot) + "/" + h + path;
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
    const std::string parent = d.substr(0, d.rfind('/'));
    for (const char* f : {"cpuset.cpus", "cpuset.mems"})
      if (path_exists(d + "/" + f)) write_file(d + "/" + f, read_file(parent + "/" + f));
    if (!rootless()) return;
    for (const char* f :
         {"", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control", "/tasks"}) {
      const std::string p = d + f;
      if (!path_exists(p)) continue;
      ASSERT_EQ(::chown(p.c_str(), identity().uid, identity().gid), 0) << p;
    }
  }
  // A runtime call; rootless from inside the cgroup delegated to the user.
  Result urun(const std::vector<std::string>& args, RunOptions opts = {}) {
    if (rootless() && has(kUnified)) opts.join_cgroups = {dir(kUnified, "/runtime/cgroup.procs")};
    return rt().run(args, opts);
  }

  std::vector<std::string> hierarchies_;
  std::string base_;

 private:
  // The hierarchies mounted under kCgroupRoot (symlinks such as cpu -> cpu,cpuacct skipped),
  // the cgroup2 tree of a hybrid host ("unified") included.
  static std::vector<std::string> list_hierarchies() {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(kCgroupRoot)) {
      while (dirent* e = ::readdir(d))
        if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
            path_exists(std::string(kCgroupRoot) + "/" + e->d_name + "/cgroup.procs"))
          out.push_back(e->d_name);
      ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace urun_it
