// spec, features
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "criu/criu.hpp"
#include "common/fs.hpp"
#include "linux/seccomp.hpp"
#include "version.hpp"

namespace urun::cli {
namespace {

// runtime-spec features.md: what this build supports, for higher-level tools.
std::string features_json() {
  nlohmann::ordered_json j;
  j["ociVersionMin"] = "1.0.0";
  j["ociVersionMax"] = kOciVersion;
  j["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                "poststop"};
  j["mountOptions"] = {"ro",       "rw",         "suid",        "nosuid",     "dev",
                       "nodev",    "exec",       "noexec",      "sync",       "async",
                       "dirsync",  "remount",    "mand",        "nomand",     "atime",
                       "noatime",  "diratime",   "nodiratime",  "relatime",   "norelatime",
                       "strictatime", "nostrictatime", "nosymfollow", "bind",  "rbind",
                       "private",  "rprivate",   "shared",      "rshared",    "slave",
                       "rslave",   "unbindable", "runbindable", "tmpcopyup",  "idmap"};
  j["linux"]["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};
  j["linux"]["capabilities"] = nlohmann::ordered_json::array();
  j["linux"]["cgroup"] = {{"v1", false}, {"v2", false}, {"systemd", false}, {"systemdUser", false}};
  j["linux"]["seccomp"] = linux::seccomp_features();
  j["linux"]["apparmor"] = {{"enabled", false}};
  j["linux"]["selinux"] = {{"enabled", false}};
  j["linux"]["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
  j["annotations"] = {{"io.github.urun.version", kVersion}, {"io.github.urun.commit", kGitCommit}};
  // As crun says it: checkpoint/restore work only with a usable CRIU installed.
  if (criu::criu_available()) j["annotations"]["run.oci.crun.checkpoint.enabled"] = "true";
  return j.dump(2) + "\n";
}

}  // namespace

void add_spec_commands(CLI::App& app, Context& ctx) {
  static std::string bundle = ".";
  static bool rootless = false;

  auto* spec = app.add_subcommand("spec", "Generate a configuration file");
  spec->add_option("-b,--bundle", bundle, "Bundle directory to write config.json into");
  spec->add_flag("--rootless", rootless, "A configuration usable by an unprivileged user");
  spec->callback([&ctx] {
    ctx.action = [] {
      in_context("spec", "", [&] { container::write_spec(bundle, rootless); });
      return 0;
    };
  });

  auto* features = app.add_subcommand("features", "Show the features this build supports");
  features->callback([&ctx] {
    ctx.action = [] {
      fs::write_all(STDOUT_FILENO, features_json());
      return 0;
    };
  });
}

}  // namespace urun::cli
