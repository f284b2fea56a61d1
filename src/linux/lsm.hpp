#pragma once
// Linux security module labels of the container's process: process.apparmorProfile
// (exec --apparmor) and process.selinuxLabel (exec --process-label). Like crun, a label
// for a module the host does not run is ignored: the same config runs on hosts with
// and without AppArmor or SELinux. The parent decides which labels apply (it reads the
// host's /sys); the child opens the attribute files after pivot_root, in the container's
// /proc, and writes them just before execve, so that no hook's exec consumes them (the
// kernel resets attr/exec at every execve).
#include <optional>
#include <string>

#include "common/unique_fd.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

struct LsmHost {
  bool apparmor = false;  // /sys/module/apparmor/parameters/enabled is "Y"
  bool selinux = false;   // selinuxfs is mounted on /sys/fs/selinux
};
LsmHost detect_lsm_host();

// What the child writes; empty: nothing.
struct LsmLabels {
  std::string apparmor;  // "exec <profile>" for attr/apparmor/exec (or attr/exec)
  std::string selinux;   // the label for attr/exec
  bool empty() const { return apparmor.empty() && selinux.empty(); }
};
// Pure: the writes for this process on this host (an empty profile or label is none).
// Throws Error for one that cannot be written (a newline or NUL in it), naming the field.
LsmLabels lsm_labels(const spec::Process& proc, const LsmHost& host);

// Child side. open() before the process loses its privileges and seccomp applies;
// write() just before execve.
class LsmExecAttr {
 public:
  explicit LsmExecAttr(const LsmLabels& labels) : labels_(labels) {}
  void open();
  void write();

 private:
  const LsmLabels& labels_;
  UniqueFd apparmor_, selinux_;
};

}  // namespace urun::linux
