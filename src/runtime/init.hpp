#pragma once
// The container init: the child side of clone(). Everything here was computed
// by the parent (launcher.cpp) before clone; the child only applies it, in
// the order the OCI spec and the kernel require, then execs the process.
#include <string>
#include <vector>

#include "linux/lsm.hpp"
#include "linux/mounts/rootfs.hpp"
#include "linux/namespaces.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "runtime/process_setup.hpp"  // find_executable
#include "runtime/sync_channel.hpp"
#include "spec/spec.hpp"

namespace urun::runtime {

struct InitPlan {
  const spec::Spec* spec = nullptr;
  std::string id;
  std::string bundle;  // the init works from here: relative bind sources
  // false: the parent entered the bundle before clone, and the init inherited it.
  bool chdir_to_bundle = true;
  linux::NamespacePlan* namespaces = nullptr;
  linux::RootfsOptions rootfs;
  const SyncChannel* channel = nullptr;  // the child's end
  int start_fifo_fd = -1;   // detached create: block reading one byte (start writes it)
  bool foreground = false;  // run: wait for kStart on the channel instead
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool keep_original_groups = false;
  bool setgroups_denied = false;  // a single-id map denies setgroups(2)
  // The config maps only root to one host id but runs the process as a
  // non-zero uid/gid: a nested user namespace maps that uid/gid to the root
  // of the container's namespace (crun's "intermediate user namespace").
  bool intermediate_userns = false;
  int preserve_fds = 0;
  // Compiled by the parent before clone; nullptr: no seccomp.
  const linux::SeccompProgram* seccomp = nullptr;
  // AppArmor profile / SELinux label the host applies; nullptr: none.
  const linux::LsmLabels* lsm = nullptr;
  // process.terminal: the connected console socket (moved above the
  // preserved fds, close-on-exec), or -1 to send the master to the parent.
  int console_socket = -1;
  int listen_fds = 0;  // socket activation: LISTEN_FDS/LISTEN_PID for the process
  // Fds of the preserved range that only hold the place: closed first.
  std::vector<int> placeholder_fds;
  // A new time namespace's /proc/self/timens_offsets text (linux.timeOffsets and the
  // run.oci.timens_offset annotation); "" writes nothing.
  std::string timens_offsets;
};

// The clone() entry point. Never returns and never throws: any failure is sent
// to the parent as a kError frame (or written to stderr when the parent is
// gone) and the child _exits with status 127.
[[noreturn]] void container_init(InitPlan& plan) noexcept;

}  // namespace urun::runtime
