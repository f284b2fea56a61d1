// `urun check`: one run reports the caller's set-up, one line per
// check with the fix of each warn and fail, as text or JSON, and exits non-zero when something
// blocks (rootless) containers. Each broken condition is made real for the runtime alone and
// never for the machine: the test runs it in a private mount namespace (as root, then drops to
// the test user with setpriv) where an empty file covers /etc/subuid, a tun node of the wanted
// mode covers /dev/net/tun, or an empty tmpfs covers /run/user; PATH and XDG_RUNTIME_DIR are
// the process's own. Errors a bad rootless set-up causes elsewhere end with a hint to run it.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "harness.hpp"

namespace urun_it {
namespace {

constexpr const char* kHint = "(run 'urun check' to diagnose the rootless set-up)";
constexpr const char* kUserPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class Check : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (is_runc()) GTEST_SKIP() << "`check` is urun's own command";
  }

  // Shell lines (run as root in the private mount namespace) that cover /dev/net/tun with a
  // tun node of `mode`: on a tmpfs of the test's own, since the test dir may not allow nodes.
  std::string tun_with_mode(const std::string& mode) {
    const std::string d = dir() + "/tunfs";
    ::mkdir(d.c_str(), 0755);
    return "mount -t tmpfs -o mode=0755 tmpfs " + d + "; mknod -m " + mode + " " + d +
           "/tun c 10 200; mount --bind " + d + "/tun /dev/net/tun; ";
  }

  // Covers a system file with one of the test's (contents as given) in the namespace.
  std::string cover_file(const std::string& path, const std::string& content) {
    const std::string copy = dir() + "/cover" + std::to_string(++covers_);
    write_file(copy, content, 0644);
    return "mount --bind " + copy + " " + path + "; ";
  }

  // `urun check ARGS` as the test user in a private mount namespace prepared by `mounts`,
  // with the user's usual environment changed by `env` (NAME -> value; "" unsets it).
  // The healthy default: a tun node as distributions ship it (0666).
  Result check_as_user(const std::vector<std::string>& args, std::string mounts = "",
                       const std::map<std::string, std::string>& env = {}) {
    const Identity& u = world().user();
    if (mounts.find("/dev/net/tun") == std::string::npos) mounts += tun_with_mode("0666");
    std::map<std::string, std::string> vars = {
        {"PATH", kUserPath},
        {"HOME", u.home},
        {"USER", u.name},
        {"XDG_RUNTIME_DIR", "/run/user/" + std::to_string(u.uid)}};
    for (const auto& [k, v] : env) vars[k] = v;
    std::string cmd = "set -e; " + mounts + "exec setpriv --reuid=" + std::to_string(u.uid) +
                      " --regid=" + std::to_string(u.gid) + " --init-groups env -i";
    for (const auto& [k, v] : vars)
      if (!v.empty()) cmd += " " + sh_quote(k + "=" + v);
    cmd += " " + sh_quote(world().runtime());
    for (const auto& a : args) cmd += " " + sh_quote(a);
    return run_as(Identity{}, {"unshare", "--mount", "--propagation", "private", "sh", "-c", cmd},
                  dir() + "/io", RunOptions{.cwd = "/", .timeout = std::chrono::seconds(30)});
  }

  // The JSON report of a run, checked for its shape.
  Json report(const Result& r) {
    Json j;
    try {
      j = Json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.describe();
      return Json::array();
    }
    EXPECT_TRUE(j.is_array()) << r.describe();
    for (const auto& f : j) {
      EXPECT_TRUE(f.contains("check") && f.contains("status") && f.contains("detail") &&
                  f.contains("fix"))
          << f.dump();
      const std::string status = f.value("status", "");
      EXPECT_TRUE(status == "ok" || status == "warn" || status == "fail") << f.dump();
      // A warn or fail says why and how to fix it.
      if (status != "ok") {
        EXPECT_FALSE(f.value("detail", "").empty()) << f.dump();
        EXPECT_FALSE(f.value("fix", "").empty()) << f.dump();
      }
    }
    // The exit status says whether anything failed.
    bool failed = false;
    for (const auto& f : j) failed |= f.value("status", "") == "fail";
    EXPECT_EQ(r.exit_code, failed ? 1 : 0) << r.describe();
    return j;
  }

  static Json finding(const Json& report, const std::string& check) {
    for (const auto& f : report)
      if (f.value("check", "") == check) return f;
    return Json();
  }

  // The finding `check` has `status` and a fix that contains `fix`; also in the text form
  // `text` (the same run without --format json): its line has the status, detail and fix.
  void expect_finding(const Json& report, const Result& text, const std::string& check,
                      const std::string& status, const std::string& fix) {
    const Json f = finding(report, check);
    ASSERT_FALSE(f.is_null()) << "no `" << check << "` in\n" << report.dump(2);
    EXPECT_EQ(f.value("status", ""), status) << f.dump();
    EXPECT_NE(f.value("fix", "").find(fix), std::string::npos)
        << "want a fix with `" << fix << "`: " << f.dump();
    bool found = false;
    for (const auto& line : split_lines(text.out)) {
      // "STATUS" padded to 6 columns, then the check's name padded with at least 2 spaces.
      if (line.rfind(status, 0) != 0 || line.compare(6, check.size(), check) != 0 ||
          line.compare(6 + check.size(), 2, "  ") != 0)
        continue;
      found = true;
      EXPECT_NE(line.find(f.value("detail", "")), std::string::npos) << line;
      if (status != "ok") {
        EXPECT_NE(line.find("-- fix: " + f.value("fix", "")), std::string::npos) << line;
      }
    }
    EXPECT_TRUE(found) << "no `" << status << " " << check << "` line in\n" << text.out;
  }

  // Runs check as the user, text and JSON, with the same set-up; expects `check` to be
  // `status` with `fix` in both; returns the JSON report.
  Json expect_user_check(const std::string& check, const std::string& status,
                         const std::string& fix, const std::string& mounts = "",
                         const std::map<std::string, std::string>& env = {}) {
    Result text = check_as_user({"check"}, mounts, env);
    Result json = check_as_user({"check", "--format", "json"}, mounts, env);
    Json j = report(json);
    EXPECT_EQ(text.exit_code, json.exit_code) << text.describe() << json.describe();
    EXPECT_EQ(split_lines(text.out).size(), j.size()) << text.out;
    expect_finding(j, text, check, status, fix);
    return j;
  }

  int covers_ = 0;
};

using CheckRootless = Check;
using CheckRoot = Check;

TEST_P(CheckRootless, HealthyUserPasses) {
  Result text = check_as_user({"check"});
  Result json = check_as_user({"check", "--format", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.describe();
  EXPECT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_EQ(json.err, "") << json.describe();
  Json j = report(json);
  for (const auto& f : j) EXPECT_NE(f.value("status", ""), "fail") << f.dump();
  // Every rootless check is there and passes on this set-up.
  for (const char* check : {"user namespaces", "subordinate uids", "subordinate gids", "newuidmap",
                            "newgidmap", "XDG_RUNTIME_DIR", "state directory", "/dev/net/tun",
                            "network helper", "seccomp", "cgroup manager"}) {
    const Json f = finding(j, check);
    ASSERT_FALSE(f.is_null()) << check << " missing from\n" << j.dump(2);
    // The cgroup manager may be disabled here (no delegation): a warn with its fix.
    if (std::string(check) != "cgroup manager") {
      EXPECT_EQ(f.value("status", ""), "ok") << f.dump();
    }
  }
  EXPECT_NE(finding(j, "subordinate uids")
                .value("detail", "")
                .find(std::to_string(world().subuid().first)),
            std::string::npos);
  // Text: one line per finding, in the same order.
  auto lines = split_lines(text.out);
  ASSERT_EQ(lines.size(), j.size()) << text.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind(j[i].value("status", ""), 0), 0u) << lines[i];
    EXPECT_EQ(lines[i].compare(6, j[i].value("check", "").size(), j[i].value("check", "")), 0)
        << lines[i];
  }
}

TEST_P(CheckRootless, NoSubordinateIdsFail) {
  const std::string mounts = cover_file("/etc/subuid", "") + cover_file("/etc/subgid", "# none\n");
  const std::string user = world().user().name;
  Json j = expect_user_check("subordinate uids", "fail",
                             "sudo usermod --add-subuids 100000-165535 " + user, mounts);
  expect_finding(j, check_as_user({"check"}, mounts), "subordinate gids", "fail",
                 "sudo usermod --add-subgids 100000-165535 " + user);
}

TEST_P(CheckRootless, RangeOverlappingAnotherUsersIsAWarning) {
  const std::string user = world().user().name;
  const std::string mounts =
      cover_file("/etc/subuid", "someone:1000:200000\n" + user + ":100000:65536\n");
  Json j = expect_user_check("subordinate uids", "warn",
                             "--del-subuids 100000-165535 --add-subuids 201000-266535", mounts);
  EXPECT_NE(finding(j, "subordinate uids").value("detail", "").find("`someone`"),
            std::string::npos);
}

TEST_P(CheckRootless, NewuidmapMissingFromPathFails) {
  const std::string bin = dir() + "/emptybin";
  ::mkdir(bin.c_str(), 0755);
  Json j =
      expect_user_check("newuidmap", "fail", "export PATH=\"$PATH:/usr/bin\"", "", {{"PATH", bin}});
  EXPECT_EQ(finding(j, "newgidmap").value("status", ""), "fail");
}

TEST_P(CheckRootless, NewuidmapWithoutSetuidFails) {
  const std::string bin = dir() + "/bin";
  ::mkdir(bin.c_str(), 0755);
  const std::string copy = bin + "/newuidmap";
  std::filesystem::copy_file("/usr/bin/newuidmap", copy);
  ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
  Json j = expect_user_check("newuidmap", "fail", "sudo chmod u+s " + copy, "",
                             {{"PATH", bin + ":" + kUserPath}});
  EXPECT_EQ(finding(j, "newgidmap").value("status", ""), "ok") << j.dump(2);
}

TEST_P(CheckRootless, XdgRuntimeDirUnset) {
  const std::string run_user = "/run/user/" + std::to_string(world().user().uid);
  // With /run/user/<uid> there, urun falls back to it: a warning.
  expect_user_check("XDG_RUNTIME_DIR", "warn", "export XDG_RUNTIME_DIR=" + run_user, "",
                    {{"XDG_RUNTIME_DIR", ""}});
  // Without it there is no state directory: both fail.
  const std::string mounts = "mount -t tmpfs tmpfs /run/user; ";
  Json j = expect_user_check("XDG_RUNTIME_DIR", "fail",
                             "sudo install -d -m 0700 -o " + world().user().name, mounts,
                             {{"XDG_RUNTIME_DIR", ""}});
  EXPECT_EQ(finding(j, "state directory").value("status", ""), "fail") << j.dump(2);
}

TEST_P(CheckRootless, XdgRuntimeDirOfAnotherUserFails) {
  const std::string other = dir() + "/rootsdir";
  ASSERT_EQ(::mkdir(other.c_str(), 0700), 0);  // made by root: root's
  const std::string run_user = "/run/user/" + std::to_string(world().user().uid);
  Json j = expect_user_check("XDG_RUNTIME_DIR", "fail", "export XDG_RUNTIME_DIR=" + run_user, "",
                             {{"XDG_RUNTIME_DIR", other}});
  EXPECT_NE(finding(j, "XDG_RUNTIME_DIR").value("detail", "").find("belongs to uid 0"),
            std::string::npos);
  EXPECT_EQ(finding(j, "state directory").value("status", ""), "fail") << j.dump(2);
}

TEST_P(CheckRootless, NoTunAccessFails) {
  expect_user_check("/dev/net/tun", "fail", "sudo chmod 0666 /dev/net/tun", tun_with_mode("0600"));
}

// Item 3: a create that newuidmap refuses, and a state root the user cannot have, end with
// the hint.
TEST_P(CheckRootless, SetUpErrorsEndWithTheHint) {
  const std::string bin = dir() + "/bin";
  ::mkdir(bin.c_str(), 0755);
  const std::string copy = bin + "/newuidmap";
  std::filesystem::copy_file("/usr/bin/newuidmap", copy);
  ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
  Bundle b = make_bundle();
  map_subordinate_ids(b);  // explicit mappings: no single-id fallback
  b.save();
  Result r = run_as(identity(),
                    {"/usr/bin/env", "PATH=" + bin + ":" + kUserPath, world().runtime(), "--root",
                     rt().state_root(), "create", "--bundle", b.dir, "nohelper"},
                    dir() + "/io", RunOptions{.cwd = dir()});
  expect_clean_failure(r, "newuidmap");
  ASSERT_FALSE(r.err_lines().empty());
  EXPECT_TRUE(r.err_lines()[0].ends_with(kHint)) << r.describe();

  const std::string other = dir() + "/rootsdir";
  ASSERT_EQ(::mkdir(other.c_str(), 0755), 0);
  Result l =
      run_as(identity(), {"/usr/bin/env", "XDG_RUNTIME_DIR=" + other, world().runtime(), "list"},
             dir() + "/io", RunOptions{.cwd = dir()});
  EXPECT_NE(l.exit_code, 0) << l.describe();
  ASSERT_EQ(l.err_lines().size(), 1u) << l.describe();
  EXPECT_TRUE(l.err_lines()[0].ends_with(kHint)) << l.describe();
  // Mappings of host ids outside the user's subordinate ranges: refused before clone, with
  // the hint (a missing range is the set-up's).
  Bundle m = make_bundle({.name = "outside"});
  m.config["linux"]["uidMappings"] =
      Json::array({{{"containerID", 0}, {"hostID", identity().uid}, {"size", 1}},
                   {{"containerID", 1}, {"hostID", 3000000000u}, {"size", 10}}});
  m.save();
  Result o = rt().run({"create", "--bundle", m.dir, "outside"});
  expect_clean_failure(o, "linux.uidMappings");
  ASSERT_FALSE(o.err_lines().empty());
  EXPECT_TRUE(o.err_lines()[0].ends_with(kHint)) << o.describe();

  // A failure that is not the set-up's has no hint.
  Result n = rt().run({"state", "nosuchcontainer"});
  EXPECT_NE(n.exit_code, 0);
  EXPECT_EQ(n.err.find("urun check"), std::string::npos) << n.describe();
}

// As root: the root path (its state directory, the cgroup manager, seccomp...), without
// the rootless-only checks.
TEST_P(CheckRoot, RootPathPasses) {
  Result json = rt().run({"check", "--format", "json"});
  Result text = rt().run({"check"});
  Json j = report(json);
  EXPECT_EQ(json.exit_code, 0) << json.describe();
  EXPECT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_EQ(split_lines(text.out).size(), j.size()) << text.out;
  for (const auto& f : j) EXPECT_NE(f.value("status", ""), "fail") << f.dump();
  for (const char* check : {"user namespaces", "state directory", "cgroup manager", "seccomp"})
    EXPECT_FALSE(finding(j, check).is_null()) << check << " missing from\n" << j.dump(2);
  for (const char* check : {"subordinate uids", "newuidmap", "XDG_RUNTIME_DIR", "/dev/net/tun"})
    EXPECT_TRUE(finding(j, check).is_null()) << check << " is rootless-only\n" << j.dump(2);
  EXPECT_NE(finding(j, "state directory").value("detail", "").find(rt().state_root()),
            std::string::npos)
      << j.dump(2);
  // Root gets a cgroup (or an error): never the rootless "disabled" fallback.
  EXPECT_EQ(finding(j, "cgroup manager").value("status", ""), "ok") << j.dump(2);
}

URUN_IT_INSTANTIATE_ONLY(CheckRootless, rootless);
URUN_IT_INSTANTIATE_ONLY(CheckRoot, root);

}  // namespace
}  // namespace urun_it
