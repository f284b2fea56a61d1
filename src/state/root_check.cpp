// The ownership rule of the state root (see store.hpp for why it is this rule).
#include <sys/stat.h>

#include <cstdio>

#include "common/error.hpp"
#include "state/store.hpp"

namespace urun::state {
namespace {

constexpr mode_t kWritableByOthers = S_IWGRP | S_IWOTH;

std::string octal_mode(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

RootProblem check_state_root(DirOwnership root, DirOwnership parent, uid_t euid) {
  if (root.uid != euid) return RootProblem::root_owner;
  if (root.mode & kWritableByOthers) return RootProblem::root_writable;
  // The parent's owner can rename the root away whatever the mode says.
  if (parent.uid != euid && parent.uid != 0) return RootProblem::parent_owner;
  // Others who may write the parent can, unless the sticky bit keeps them to
  // their own entries.
  if ((parent.mode & kWritableByOthers) && !(parent.mode & S_ISVTX))
    return RootProblem::parent_writable;
  return RootProblem::none;
}

std::string describe_root_problem(RootProblem problem, const std::string& root_path,
                                  DirOwnership root, const std::string& parent_path,
                                  DirOwnership parent, uid_t euid) {
  const std::string head = "state root " + quote(root_path);
  const std::string own = "pass --root with a directory of your own";
  switch (problem) {
    case RootProblem::none:
      return "";
    case RootProblem::root_owner:
      return head + " belongs to uid " + std::to_string(root.uid) + ", not to you (uid " +
             std::to_string(euid) + "): its owner controls the containers' state; remove it or " +
             own;
    case RootProblem::root_writable:
      return head + " is writable by other users (mode " + octal_mode(root.mode) +
             "): run `chmod 700 " + root_path + "` or " + own;
    case RootProblem::parent_owner:
      return head + " can be replaced by another user: its parent " + quote(parent_path) +
             " belongs to uid " + std::to_string(parent.uid) + "; " + own;
    case RootProblem::parent_writable:
      return head + " can be replaced by other users: its parent " + quote(parent_path) +
             " is writable by them and not sticky (mode " + octal_mode(parent.mode) +
             "): run `chmod +t " + parent_path + "` or " + own;
  }
  return "";
}

}  // namespace urun::state
