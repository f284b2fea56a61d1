// The cgroup manager a container of this caller would get, through the factory create
// uses (cgroups::make_manager: systemd -> cgroupfs -> disabled), and its controllers.
#include <sys/stat.h>

#include <algorithm>

#include "cgroups/factory.hpp"
#include "common/error.hpp"
#include "common/fs.hpp"
#include "diagnose/check.hpp"

namespace urun::diagnose {
namespace {

// The controllers limits need most; without them `update` and the config's limits fail.
constexpr const char* kWanted[] = {"cpu", "memory", "pids", "io"};

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool systemd_host() {
  struct stat st {};
  return ::stat("/run/systemd/system", &st) == 0;
}

std::string delegation_fix(const Context& ctx) {
  if (systemd_host())
    return "sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\n"
           "Delegate=cpu cpuset io memory pids\\n' | sudo tee "
           "/etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload "
           "(then log in again)";
  return "without systemd, give your session a cgroup of its own: in each hierarchy under " +
         std::string(cgroups::kDefaultRoot) + ", sudo mkdir H/" + ctx.user + " && sudo chown -R " +
         ctx.user + " H/" + ctx.user + ", then echo $$ > H/" + ctx.user +
         "/cgroup.procs (or pass --cgroup-manager=disabled to silence this)";
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t b = text.find_first_not_of(" \n", pos);
    if (b == std::string::npos) break;
    size_t e = text.find_first_of(" \n", b);
    out.push_back(text.substr(b, e == std::string::npos ? std::string::npos : e - b));
    pos = e == std::string::npos ? text.size() : e;
  }
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// The controllers a container cgroup at `path` below the cgroup2 tree `root` may use:
// those of its parent (the nearest that exists).
Finding v2_controllers(const Context& ctx, const std::string& root, std::string path) {
  Finding f{"cgroup controllers", Status::ok, "", ""};
  std::string dir = root + (path == "/" ? "" : path);
  do {
    dir.erase(dir.rfind('/'));
  } while (dir.size() > root.size() && !exists(dir));
  if (dir.size() < root.size()) dir = root;
  std::vector<std::string> have;
  try {
    have = split_words(fs::read_file(dir + "/cgroup.controllers"));
  } catch (const Error& e) {
    return {f.check, Status::warn, e.message(), ""};
  }
  std::vector<std::string> missing;
  for (const char* c : kWanted)
    if (std::find(have.begin(), have.end(), c) == have.end()) missing.push_back(c);
  f.detail = (have.empty() ? std::string("none") : join(have)) + " (in " + dir + ")";
  if (!missing.empty()) {
    f.status = Status::warn;
    f.detail += "; missing " + join(missing) + ": those limits cannot be applied";
    f.fix = delegation_fix(ctx);
    if (ctx.root) {
      std::string plus;
      for (const auto& m : missing) plus += (plus.empty() ? "+" : " +") + m;
      f.fix = "echo '" + plus + "' | sudo tee " + dir + "/cgroup.subtree_control";
    }
  }
  return f;
}

Finding controllers_finding(const Context& ctx, const cgroups::Manager& m) {
  const std::map<std::string, std::string> paths = m.hierarchy_paths();
  // cgroup v2 alone: the container's path under the root.
  if (paths.size() == 1 && paths.begin()->first.empty() && !m.cgroupfs_root().empty())
    return v2_controllers(ctx, m.cgroupfs_root(), paths.begin()->second);
  if (paths.empty())
    return {"cgroup controllers", Status::ok,
            "known once the container's " + m.kind() + " unit exists", ""};
  // v1 (or hybrid): one writable hierarchy per controller group.
  std::vector<std::string> names;
  for (const auto& [name, path] : paths) names.push_back(name);
  return {"cgroup controllers", Status::ok, join(names) + " (cgroup v1 hierarchies)", ""};
}

}  // namespace

void check_cgroups(const Context& ctx, Findings& out) {
  if (ctx.global.cgroup_manager == "disabled") {
    out.push_back({"cgroup manager", Status::ok, "disabled (--cgroup-manager=disabled)", ""});
    return;
  }
  cgroups::ManagerRequest req;
  req.kind = ctx.global.cgroup_manager.empty() ? "auto" : ctx.global.cgroup_manager;
  req.container_id = "urun-check";
  req.rootless = !ctx.root;
  req.uid = ctx.uid;
  cgroups::ManagerChoice choice;
  try {
    choice = cgroups::make_manager(req);  // nothing is created on disk
  } catch (const Error& e) {
    out.push_back({"cgroup manager", Status::fail, e.message(),
                   ctx.root
                       ? "mount the cgroup file system at " + std::string(cgroups::kDefaultRoot)
                       : delegation_fix(ctx)});
    return;
  }
  std::string why;
  for (const auto& r : choice.reasons) why += (why.empty() ? "" : "; ") + r;
  const cgroups::Manager& m = *choice.manager;
  if (m.kind() == "disabled") {
    // A rootless container still runs, without limits, pause or a cgroup to kill by.
    out.push_back({"cgroup manager", Status::warn,
                   "disabled: " + (why.empty() ? std::string("no usable cgroup") : why) +
                       "; containers run without resource limits and cannot be paused",
                   delegation_fix(ctx)});
    return;
  }
  std::string detail = m.kind();
  if (!m.path().empty()) detail += ", containers under " + m.path();
  if (!why.empty()) detail += " (" + why + ")";
  out.push_back({"cgroup manager", Status::ok, detail, ""});
  out.push_back(controllers_finding(ctx, m));
}

}  // namespace urun::diagnose
