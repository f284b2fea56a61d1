#pragma once
// The error of a command that could not be executed. The runtime throws it (exec's
// execve failed) and the CLI turns it into the exit status a shell would use, so it
// lives below both.
#include <string>
#include <utility>

#include "common/error.hpp"

namespace urun {

// The command itself could not be executed (not found, permission denied).
// status(): what a shell would exit with, 127 or 126.
class ExecFailure : public Error {
 public:
  ExecFailure(std::string message, int err, int status)
      : Error(std::move(message), err), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

}  // namespace urun
