#pragma once
// checkpoint and restore: a running container saved to CRIU images (and left
// stopped, unless --leave-running), and a container made again from them.
// CRIU needs CAP_SYS_ADMIN and more in the initial user namespace to dump and
// restore namespaces, so both refuse unprivileged callers (before anything is
// created or opened: they leave nothing behind).
#include <string>
#include <vector>

#include "container/commands.hpp"

namespace urun::container {

// What checkpoint and restore both take, with the same meaning for CRIU.
struct CriuRequest {
  std::string id;
  std::string image_path;  // "" -> ./checkpoint
  std::string work_path;   // "" -> the image path; created when missing
  std::string manage_cgroups_mode = "soft";
  bool tcp_established = false;
  bool ext_unix_sk = false;
  bool shell_job = false;
  bool file_locks = false;
};

// CRIU's flags for the booleans of CriuRequest (--tcp-established, ...), those set.
std::vector<std::string> criu_flag_args(const CriuRequest& request);

struct CheckpointRequest : CriuRequest {
  std::string parent_path;  // relative to image_path (a pre-dump's images)
  bool leave_running = false;
  bool pre_dump = false;
};

struct RestoreRequest : CriuRequest {
  std::string bundle;  // "" -> current directory
  std::string config = "config.json";
  std::string pid_file;
  std::string console_socket;
  std::string lsm_profile;  // TYPE:NAME
  std::string lsm_mount_context;
  bool tcp_close = false;
  bool detach = false;
};

void checkpoint(const GlobalOptions& global, const CheckpointRequest& request);
// Returns the exit status to exit with: 0 detached, else the restored
// container's (128 + signal when killed) once it exits.
int restore(const GlobalOptions& global, const RestoreRequest& request);

// Throws the refusal for a caller that is not root of the initial user
// namespace (`what`: "checkpoint" or "restore").
void refuse_unprivileged_criu(const std::string& what);

}  // namespace urun::container
