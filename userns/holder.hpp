#pragma once
// A user namespace kept alive by a parked child process, for idmapped mounts
// (mount_setattr(MOUNT_ATTR_IDMAP) takes a user namespace fd) and for intermediate namespaces.
// The child is created with clone(CLONE_NEWUSER), blocks on a pipe, and dies with its parent
// (PR_SET_PDEATHSIG) or when the holder is destroyed (SIGKILL + waitpid).
#include <sys/types.h>

#include <vector>

#include "common/unique_fd.hpp"
#include "userns/map_writer.hpp"
#include "userns/mapping.hpp"

namespace urun::userns {

class UsernsHolder {
 public:
  // Creates the namespace and writes its maps with write_id_maps (empty gids: no gid map).
  // Throws urun::Error; the child is reaped on failure.
  UsernsHolder(const std::vector<Mapping>& uids, const std::vector<Mapping>& gids,
               const WriteOptions& options = {});
  ~UsernsHolder();
  UsernsHolder(UsernsHolder&& other) noexcept;
  UsernsHolder& operator=(UsernsHolder&& other) noexcept;
  UsernsHolder(const UsernsHolder&) = delete;
  UsernsHolder& operator=(const UsernsHolder&) = delete;

  // /proc/<pid>/ns/user, O_RDONLY | O_CLOEXEC; valid for the holder's lifetime (and beyond:
  // the fd alone keeps the namespace alive once the child is gone).
  int ns_fd() const noexcept { return ns_fd_.get(); }
  pid_t pid() const noexcept { return pid_; }
  const MapResult& map_result() const noexcept { return result_; }

 private:
  void reap() noexcept;

  pid_t pid_ = -1;
  UniqueFd park_fd_;  // write end of the parking pipe: the child exits on its EOF
  UniqueFd ns_fd_;
  MapResult result_;
};

}  // namespace urun::userns
