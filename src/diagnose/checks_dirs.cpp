// XDG_RUNTIME_DIR and the state directory urun keeps its containers in.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"
#include "diagnose/check.hpp"
#include "state/store.hpp"

namespace urun::diagnose {
namespace {

std::string octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string run_user_dir(const Context& ctx) { return "/run/user/" + std::to_string(ctx.uid); }

// What makes the session directory systemd-logind would have made.
std::string make_run_user_dir(const Context& ctx) {
  return "sudo install -d -m 0700 -o " + ctx.user + " -g " + ctx.group + " " + run_user_dir(ctx) +
         " && export XDG_RUNTIME_DIR=" + run_user_dir(ctx);
}

// A usable directory of the caller's own: exists, ours, 0700.
bool owned_dir(const std::string& path, uid_t uid) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid;
}

Finding xdg_finding(const Context& ctx) {
  Finding f{"XDG_RUNTIME_DIR", Status::ok, "", ""};
  const char* env = std::getenv("XDG_RUNTIME_DIR");
  const std::string fallback = run_user_dir(ctx);
  const std::string set_it =
      owned_dir(fallback, ctx.uid) ? "export XDG_RUNTIME_DIR=" + fallback : make_run_user_dir(ctx);
  if (!env || env[0] != '/') {
    f.detail = env ? std::string("`") + env + "` is not an absolute path (ignored)" : "not set";
    if (owned_dir(fallback, ctx.uid)) {
      // default_root falls back to it: containers work, other tools (Podman) may not.
      f.status = Status::warn;
      f.detail += "; urun uses " + fallback;
    } else {
      f.status = Status::fail;
      f.detail += ", and " + fallback + " is not a directory of yours: no state directory";
    }
    f.fix = set_it;
    return f;
  }
  const std::string dir = env;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    f.status = Status::fail;
    f.detail = dir + ": " + std::strerror(errno);
    f.fix = dir == fallback ? make_run_user_dir(ctx) : set_it;
  } else if (!S_ISDIR(st.st_mode)) {
    f.status = Status::fail;
    f.detail = dir + " is not a directory";
    f.fix = set_it;
  } else if (st.st_uid != ctx.uid) {
    f.status = Status::fail;
    f.detail = dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to you (uid " +
               std::to_string(ctx.uid) + ")";
    f.fix = set_it;
  } else if ((st.st_mode & 07777) != 0700) {
    // The XDG base directory spec requires 0700: others could read or plant state.
    f.status = Status::warn;
    f.detail = dir + " has mode " + octal(st.st_mode) + ", not 0700";
    f.fix = "chmod 0700 " + dir;
  } else {
    f.detail = dir + " (yours, 0700)";
  }
  // With --root the state lives elsewhere: a bad XDG_RUNTIME_DIR does not block urun.
  if (f.status == Status::fail && !ctx.global.root.empty()) {
    f.status = Status::warn;
    f.detail += " (not used: --root given)";
  }
  return f;
}

// The deepest existing directory of `path`, where mkdir_all would start.
std::string deepest_existing(std::string path) {
  struct stat st {};
  while (path.size() > 1 && ::stat(path.c_str(), &st) != 0) {
    size_t slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return path;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void check_runtime_dir(const Context& ctx, Findings& out) { out.push_back(xdg_finding(ctx)); }

void check_state_dir(const Context& ctx, Findings& out) {
  Finding f{"state directory", Status::ok, "", ""};
  std::string root;
  try {
    root = ctx.global.root.empty() ? state::default_root() : ctx.global.root;
  } catch (const Error& e) {
    out.push_back(
        {f.check, Status::fail, e.message(), make_run_user_dir(ctx) + " (or pass --root DIR)"});
    return;
  }
  struct stat st {};
  if (::stat(root.c_str(), &st) == 0) {
    struct stat parent {};
    const std::string parent_path = parent_of(root);
    if (::stat(parent_path.c_str(), &parent) != 0) parent = st;
    const state::DirOwnership own{st.st_uid, st.st_mode}, up{parent.st_uid, parent.st_mode};
    const state::RootProblem problem = state::check_state_root(own, up, ctx.uid);
    if (problem != state::RootProblem::none) {
      f.status = Status::fail;
      f.detail = state::describe_root_problem(problem, root, own, parent_path, up, ctx.uid);
      f.fix = problem == state::RootProblem::root_writable ? "chmod 0700 " + root
              : problem == state::RootProblem::parent_writable
                  ? "chmod +t " + parent_path
                  : "pass --root DIR with a directory of your own";
    } else if (::access(root.c_str(), W_OK | X_OK) != 0) {
      f.status = Status::fail;
      f.detail = root + " is not writable: " + std::strerror(errno);
      f.fix = "chmod 0700 " + root;
    } else {
      f.detail = root + " (writable, " + octal(st.st_mode) + ")";
    }
  } else {
    // Made with its first container: the nearest existing parent must take it.
    const std::string base = deepest_existing(root);
    if (::access(base.c_str(), W_OK | X_OK) == 0) {
      f.detail = root + " (made with the first container, in " + base + ")";
    } else {
      f.status = Status::fail;
      f.detail = root + " cannot be made: " + base + " is not writable by you";
      f.fix = ctx.root ? "sudo mkdir -p -m 0700 " + root
                       : "sudo install -d -m 0700 -o " + ctx.user + " -g " + ctx.group + " " +
                             root + " (or pass --root DIR)";
    }
  }
  out.push_back(std::move(f));
}

}  // namespace urun::diagnose
