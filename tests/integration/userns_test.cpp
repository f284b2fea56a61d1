// User namespaces: the automatic namespace of rootless callers, the single-mapping fallback
// without newuidmap, explicit mappings (through newuidmap when rootless, direct map writes as
// root), the intermediate user namespace, run.oci.keep_original_groups and idmapped mounts.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "harness.hpp"

namespace urun_it {
namespace {

// "         0       1001          1" -> "0 1001 1"; one entry per non-empty line.
std::vector<std::string> norm_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(text)) {
    std::istringstream is(line);
    std::string word, joined;
    while (is >> word) joined += (joined.empty() ? "" : " ") + word;
    if (!joined.empty()) out.push_back(joined);
  }
  return out;
}

// Splits a script's output at lines "==".
std::vector<std::string> sections(const std::string& out) {
  std::vector<std::string> parts(1);
  for (const auto& line : split_lines(out)) {
    if (line == "==") {
      parts.emplace_back();
    } else {
      parts.back() += line + "\n";
    }
  }
  return parts;
}

std::string triplet(uint32_t a, uint32_t b, uint32_t c) {
  return std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(c);
}

Json mapping(uint32_t container_id, uint32_t host_id, uint32_t size) {
  return {{"containerID", container_id}, {"hostID", host_id}, {"size", size}};
}

std::string owner_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "<missing " + path + ">";
  return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

// Whether this kernel can id-map a detached bind mount of `dir` (needs root): clones the tree
// and sets MOUNT_ATTR_IDMAP with a throwaway user namespace mapping 0 -> 100000. Returns "" or
// the reason it cannot.
std::string idmap_kernel_support(const std::string& dir) {
  int ready[2], done[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(done, O_CLOEXEC) != 0)
    return std::string("pipe: ") + std::strerror(errno);
  pid_t child = ::fork();
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  if (child == 0) {
    ::close(ready[0]);
    ::close(done[1]);
    char c = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) _exit(1);
    ::read(done[0], &c, 1);
    _exit(0);
  }
  ::close(ready[1]);
  ::close(done[0]);
  std::string reason;
  char c = 0;
  if (::read(ready[0], &c, 1) != 1 || c != 'y') {
    reason = "cannot create a user namespace";
  } else {
    std::string proc = "/proc/" + std::to_string(child);
    try {
      write_file(proc + "/uid_map", "0 100000 65536\n");
      write_file(proc + "/gid_map", "0 100000 65536\n");
    } catch (const std::exception& e) {
      reason = e.what();
    }
    int ns = ::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    int tree = ::open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (!reason.empty()) {
    } else if (ns < 0 || tree < 0) {
      reason = std::string("open_tree: ") + std::strerror(errno);
    } else {
      struct mount_attr attr {};
      attr.attr_set = MOUNT_ATTR_IDMAP;
      attr.userns_fd = static_cast<uint64_t>(ns);
      if (::mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        reason = std::string("mount_setattr(MOUNT_ATTR_IDMAP): ") + std::strerror(errno);
    }
    if (ns >= 0) ::close(ns);
    if (tree >= 0) ::close(tree);
  }
  ::close(done[1]);
  ::close(ready[0]);
  int st = 0;
  ::waitpid(child, &st, 0);
  return reason;
}

class Userns : public IntegrationTest {
 protected:
  // Runs `script` under sh in a fresh container of bundle `b` and returns the result.
  Result run_sh(Bundle& b, const std::string& script) {
    b.sh(script);
    b.save();
    std::string id = "u" + std::to_string(++n_);
    Result r = run_container(b, id);
    rt().run({"delete", "--force", id});
    return r;
  }
  // Runs `<prefix...> <runtime> --root <state> args...` as the mode's identity (e.g. through
  // `env PATH=...` or `setpriv`).
  Result run_wrapped(const std::vector<std::string>& prefix, const std::vector<std::string>& args,
                     RunOptions opts = {}) {
    std::vector<std::string> argv = prefix;
    argv.push_back(world().runtime());
    argv.push_back("--root");
    argv.push_back(rt().state_root());
    argv.insert(argv.end(), args.begin(), args.end());
    if (opts.cwd.empty()) opts.cwd = dir();
    return run_as(identity(), argv, dir() + "/io", opts);
  }
  // `run` of `b` with a PATH that holds neither newuidmap nor newgidmap.
  Result run_sh_without_newidmap(Bundle& b, const std::string& script) {
    b.sh(script);
    b.save();
    std::string id = "p" + std::to_string(++n_);
    Result r = run_wrapped({"/usr/bin/env", "PATH=/nonexistent"}, {"run", "--bundle", b.dir, id});
    rt().run({"delete", "--force", id});
    return r;
  }
  // A rootless config with neither a user namespace nor id mappings.
  static void drop_user_namespace(Bundle& b) {
    auto& linux = b.config["linux"];
    linux.erase("uidMappings");
    linux.erase("gidMappings");
    Json kept = Json::array();
    for (const auto& ns : linux["namespaces"]) {
      if (ns.value("type", "") != "user") kept.push_back(ns);
    }
    linux["namespaces"] = kept;
  }
  std::string uid() const { return std::to_string(identity().uid); }
  std::string gid() const { return std::to_string(identity().gid); }
  // The default spec grants no CAP_CHOWN/CAP_SETUID/CAP_SETGID: add them so that chown and su
  // inside are limited by the id mappings only.
  static void grant_id_capabilities(Bundle& b) {
    for (const char* set : {"bounding", "effective", "permitted"}) {
      for (const char* cap : {"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID", "CAP_DAC_OVERRIDE"})
        b.config["process"]["capabilities"][set].push_back(cap);
    }
  }
  static constexpr const char* kMapsScript =
      "cat /proc/self/uid_map; echo ==; cat /proc/self/gid_map; echo ==; ";
  // Needs a writable rootfs and grant_id_capabilities: a file given to 1000:1000, then the
  // ids of `user` (1000 in the test rootfs's /etc/passwd) under su.
  static constexpr const char* kChownAndSu =
      "touch /tmp/owned && chown 1000:1000 /tmp/owned && echo chowned; echo ==;"
      " su -s /bin/sh user -c 'id -u; id -g'";
  // The result of kMapsScript + kChownAndSu with the caller as 0 and the first subordinate
  // range from 1: the chown landed on the host as subordinate id 999, su became 1000, and
  // nothing was warned about.
  void expect_full_range(const Result& r, const Bundle& b, uint32_t sub_uid, uint32_t uid_count,
                         uint32_t sub_gid, uint32_t gid_count) {
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    auto s = sections(r.out);
    ASSERT_EQ(s.size(), 4u) << r.describe();
    EXPECT_EQ(norm_lines(s[0]),
              (std::vector<std::string>{"0 " + uid() + " 1", triplet(1, sub_uid, uid_count)}))
        << s[0];
    EXPECT_EQ(norm_lines(s[1]),
              (std::vector<std::string>{"0 " + gid() + " 1", triplet(1, sub_gid, gid_count)}))
        << s[1];
    EXPECT_EQ(trim(s[2]), "chowned") << r.describe();
    EXPECT_EQ(owner_of(b.rootfs + "/tmp/owned"),
              std::to_string(sub_uid + 999) + ":" + std::to_string(sub_gid + 999));
    EXPECT_EQ(norm_lines(s[3]), (std::vector<std::string>{"1000", "1000"})) << r.describe();
    EXPECT_TRUE(r.err_lines().empty()) << "no warning expected with newuidmap available\n"
                                       << r.describe();
  }

  // The result of kMapsScript + "id -u" without newuidmap: only the caller is mapped (as 0),
  // and one warning line names newuidmap; returns that line ("" after a failure).
  std::string expect_single_mapping_fallback(const Result& r) {
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    auto s = sections(r.out);
    EXPECT_EQ(s.size(), 3u) << r.describe();
    if (r.exit_code != 0 || s.size() != 3) return "";
    EXPECT_EQ(norm_lines(s[0]), std::vector<std::string>{"0 " + uid() + " 1"}) << s[0];
    EXPECT_EQ(norm_lines(s[1]), std::vector<std::string>{"0 " + gid() + " 1"}) << s[1];
    EXPECT_EQ(trim(s[2]), "0");
    auto lines = r.err_lines();
    EXPECT_EQ(lines.size(), 1u) << "want one warning line\n" << r.describe();
    if (lines.size() != 1) return "";
    EXPECT_NE(lines[0].find("newuidmap"), std::string::npos) << r.describe();
    return lines[0];
  }

 private:
  int n_ = 0;
};

// --- 1. Automatic user namespace ------------------------------------------------------------

// Behaviour of an unprivileged caller only.
class UsernsRootless : public Userns {};

TEST_P(UsernsRootless, AutomaticUserNamespaceMapsSubordinateIds) {
  auto [sub_uid, uid_count] = world().subuid();
  auto [sub_gid, gid_count] = world().subgid();
  Bundle b = make_bundle({.writable_rootfs = true});
  drop_user_namespace(b);
  grant_id_capabilities(b);
  ASSERT_FALSE(b.has_namespace("user"));
  Result r = run_sh(b, std::string(kMapsScript) + kChownAndSu);
  expect_full_range(r, b, sub_uid, uid_count, sub_gid, gid_count);
}

TEST_P(UsernsRootless, AutomaticUserNamespaceProcessUser) {
  Bundle b = make_bundle();
  drop_user_namespace(b);
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  Result r = run_sh(b, "id; grep -E '^(Uid|Gid):' /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("uid=1000("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" gid=1000("), std::string::npos) << r.out;
  EXPECT_EQ(status_field(r.out, "Uid"), "1000\t1000\t1000\t1000") << r.out;
  EXPECT_EQ(status_field(r.out, "Gid"), "1000\t1000\t1000\t1000") << r.out;
}

// `urun spec --rootless`, unchanged: a "user" namespace without mappings, which gets the caller
// as 0 and the subordinate ids from 1, so ids other than root exist in the container.
TEST_P(UsernsRootless, SpecRootlessMapsSubordinateIds) {
  auto [sub_uid, uid_count] = world().subuid();
  auto [sub_gid, gid_count] = world().subgid();
  Bundle b = make_bundle({.writable_rootfs = true});
  ASSERT_TRUE(b.has_namespace("user"));
  EXPECT_FALSE(b.config["linux"].contains("uidMappings")) << b.config["linux"].dump();
  EXPECT_FALSE(b.config["linux"].contains("gidMappings")) << b.config["linux"].dump();
  grant_id_capabilities(b);
  Result r = run_sh(b, std::string(kMapsScript) + kChownAndSu);
  expect_full_range(r, b, sub_uid, uid_count, sub_gid, gid_count);
}

// The shape `crun spec --rootless` writes: a network namespace, sysfs, and a "user" namespace
// without mappings (written here: the crun binary is not needed).
TEST_P(UsernsRootless, CrunSpecRootlessConfig) {
  auto [sub_uid, uid_count] = world().subuid();
  auto [sub_gid, gid_count] = world().subgid();
  Bundle b = make_bundle({.writable_rootfs = true});
  Json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  auto mount = [](const char* dest, const char* type, const char* source, Json options) {
    return Json{{"destination", dest}, {"type", type}, {"source", source}, {"options", options}};
  };
  Json namespaces = Json::array({{{"type", "pid"}},
                                 {{"type", "network"}},
                                 {{"type", "ipc"}},
                                 {{"type", "uts"}},
                                 {{"type", "user"}}});
  const bool unified = path_exists("/sys/fs/cgroup/cgroup.controllers");
  if (unified) namespaces.push_back({{"type", "cgroup"}});
  namespaces.push_back({{"type", "mount"}});
  Json mounts = Json::array(
      {mount("/proc", "proc", "proc", Json::array()),
       mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
       mount("/dev/pts", "devpts", "devpts",
             {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
       mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
       mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
       mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
       mount("/sys/fs/cgroup", "cgroup", "cgroup",
             {"nosuid", "noexec", "nodev", "relatime", "ro"})});
  b.config = {{"ociVersion", "1.0.0"},
              {"process",
               {{"terminal", false},
                {"user", {{"uid", 0}, {"gid", 0}}},
                {"args", {"sh"}},
                {"env",
                 {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
                  token()}},
                {"cwd", "/"},
                {"capabilities",
                 {{"bounding", caps},
                  {"effective", caps},
                  {"inheritable", Json::array()},
                  {"permitted", caps},
                  {"ambient", caps}}},
                {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
                {"noNewPrivileges", true}}},
              {"root", {{"path", b.rootfs}, {"readonly", false}}},
              {"hostname", "crun"},
              {"mounts", mounts},
              {"linux",
               {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
                {"namespaces", namespaces},
                {"maskedPaths",
                 {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                  "/proc/scsi"}},
                {"readonlyPaths",
                 {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
  grant_id_capabilities(b);
  Result r = run_sh(b, std::string(kMapsScript) + kChownAndSu);
  expect_full_range(r, b, sub_uid, uid_count, sub_gid, gid_count);
}

// --- 2. Fallback to a single mapping without newuidmap -----------------------------------------

TEST_P(UsernsRootless, AutomaticUserNamespaceWithoutNewuidmapFallsBack) {
  Bundle b = make_bundle();
  drop_user_namespace(b);
  Result r = run_sh_without_newidmap(b, std::string(kMapsScript) + "id -u");
  const std::string warning = expect_single_mapping_fallback(r);
  if (warning.empty()) return;
  EXPECT_TRUE(warning.find("install") != std::string::npos ||
              warning.find("PATH") != std::string::npos)
      << "the warning should say how to fix it\n"
      << r.describe();
}

// The same fallback for the config `spec --rootless` writes (a "user" namespace without
// mappings), with the warning the manual promises.
TEST_P(UsernsRootless, SpecRootlessWithoutNewuidmapFallsBack) {
  Bundle b = make_bundle();
  ASSERT_TRUE(b.has_namespace("user"));
  Result r = run_sh_without_newidmap(b, std::string(kMapsScript) + "id -u");
  const std::string warning = expect_single_mapping_fallback(r);
  if (warning.empty()) return;
  EXPECT_NE(warning.find("install"), std::string::npos)
      << "the warning should name what to install\n"
      << r.describe();
}

// A user without subordinate ids gets its own id alone, and a warning that says how to add
// ranges. The runtime runs as the user in a private mount namespace where an empty file covers
// /etc/subuid and /etc/subgid.
TEST_P(UsernsRootless, SpecRootlessWithoutSubordinateIdsWarns) {
  Bundle b = make_bundle();
  b.sh(std::string(kMapsScript) + "id -u");
  b.save();
  const std::string empty = dir() + "/no-subids";
  write_file(empty, "");
  const Identity& user = identity();
  const std::string script =
      "mount --bind \"$0\" /etc/subuid && mount --bind \"$0\" /etc/subgid && exec setpriv"
      " --reuid=" +
      std::to_string(user.uid) + " --regid=" + std::to_string(user.gid) +
      " --init-groups env HOME=" + user.home + " XDG_RUNTIME_DIR=/run/user/" +
      std::to_string(user.uid) + " \"$@\"";
  Result r =
      run_as(Identity{},
             {"unshare", "-m", "--propagation", "private", "sh", "-c", script, empty,
              world().runtime(), "--root", rt().state_root(), "run", "--bundle", b.dir, "nosubids"},
             dir() + "/io", RunOptions{.cwd = dir()});
  rt().run({"delete", "--force", "nosubids"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto s = sections(r.out);
  ASSERT_EQ(s.size(), 3u) << r.describe();
  EXPECT_EQ(norm_lines(s[0]), std::vector<std::string>{"0 " + uid() + " 1"}) << s[0];
  EXPECT_EQ(norm_lines(s[1]), std::vector<std::string>{"0 " + gid() + " 1"}) << s[1];
  EXPECT_EQ(trim(s[2]), "0");
  auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << "want one warning line\n" << r.describe();
  for (const char* word : {"/etc/subuid", "/etc/subgid", "usermod"})
    EXPECT_NE(lines[0].find(word), std::string::npos) << word << "\n" << r.describe();
  EXPECT_TRUE(host_mounts_under("/etc").empty());
}

// As root, a "user" namespace without mappings gets what crun gives root: root as 0 ("0 0 1")
// and root's own subordinate ranges of /etc/subuid and /etc/subgid from 1, written directly.
// The runtime runs in a private mount namespace where test files cover /etc/subuid and
// /etc/subgid, one without a line for root and one with.
class UsernsRootOnly : public Userns {
 protected:
  Result run_with_subids(Bundle& b, const std::string& id, const std::string& subids) {
    const std::string file = dir() + "/subids-" + id;
    write_file(file, subids);
    b.save();
    const std::string script =
        "mount --bind \"$0\" /etc/subuid && mount --bind \"$0\" /etc/subgid && exec \"$@\"";
    Result r =
        run_as(identity(),
               {"unshare", "-m", "--propagation", "private", "sh", "-c", script, file,
                world().runtime(), "--root", rt().state_root(), "run", "--bundle", b.dir, id},
               dir() + "/io", RunOptions{.cwd = dir()});
    rt().run({"delete", "--force", id});
    return r;
  }
};

TEST_P(UsernsRootOnly, UserNamespaceWithoutMappingsAsRoot) {
  Bundle b = make_bundle({.writable_rootfs = true});
  b.add_namespace("user");
  ASSERT_FALSE(b.config["linux"].contains("uidMappings"));
  grant_id_capabilities(b);
  const std::string maps_and_groups = std::string(kMapsScript) + "cat /proc/self/setgroups; id -u";

  // Root without subordinate ids: root alone, setgroups allowed.
  b.sh(maps_and_groups);
  Result r = run_with_subids(b, "nosub", "urun-test:100000:65536\n");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto s = sections(r.out);
  ASSERT_EQ(s.size(), 3u) << r.describe();
  EXPECT_EQ(norm_lines(s[0]), std::vector<std::string>{"0 0 1"}) << s[0];
  EXPECT_EQ(norm_lines(s[1]), std::vector<std::string>{"0 0 1"}) << s[1];
  EXPECT_EQ(norm_lines(s[2]), (std::vector<std::string>{"allow", "0"})) << r.describe();
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();

  // With root's ranges: they follow from 1, so 1000 exists.
  b.sh(maps_and_groups + "; echo ==; " + kChownAndSu);
  r = run_with_subids(b, "withsub", "urun-test:100000:65536\nroot:300000:65536\n");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  s = sections(r.out);
  ASSERT_EQ(s.size(), 5u) << r.describe();
  EXPECT_EQ(norm_lines(s[0]), (std::vector<std::string>{"0 0 1", "1 300000 65536"})) << s[0];
  EXPECT_EQ(norm_lines(s[1]), (std::vector<std::string>{"0 0 1", "1 300000 65536"})) << s[1];
  EXPECT_EQ(norm_lines(s[2]), (std::vector<std::string>{"allow", "0"})) << r.describe();
  EXPECT_EQ(trim(s[3]), "chowned") << r.describe();
  EXPECT_EQ(owner_of(b.rootfs + "/tmp/owned"), "300999:300999");
  EXPECT_EQ(norm_lines(s[4]), (std::vector<std::string>{"1000", "1000"})) << r.describe();
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
  // The bind mounts were the private namespace's only.
  EXPECT_TRUE(host_mounts_under("/etc").empty());
}

// --- 3 and 7. Explicit mappings -------------------------------------------------------------

TEST_P(Userns, ExplicitMappings) {
  Bundle b = make_bundle();
  std::vector<std::string> want_uid, want_gid;
  if (rootless()) {
    // Written by newuidmap/newgidmap.
    auto [sub_uid, uid_count] = world().subuid();
    auto [sub_gid, gid_count] = world().subgid();
    ASSERT_GE(uid_count, 65536u);
    ASSERT_GE(gid_count, 65536u);
    b.config["linux"]["uidMappings"] = {mapping(0, identity().uid, 1), mapping(1, sub_uid, 65536)};
    b.config["linux"]["gidMappings"] = {mapping(0, identity().gid, 1), mapping(1, sub_gid, 65536)};
    want_uid = {"0 " + uid() + " 1", triplet(1, sub_uid, 65536)};
    want_gid = {"0 " + gid() + " 1", triplet(1, sub_gid, 65536)};
  } else {
    // Written directly by the runtime.
    b.add_namespace("user");
    b.config["linux"]["uidMappings"] = {mapping(0, 2000000, 1), mapping(1, 2100000, 65536)};
    b.config["linux"]["gidMappings"] = {mapping(0, 2000000, 1), mapping(1, 2200000, 65536)};
    want_uid = {"0 2000000 1", "1 2100000 65536"};
    want_gid = {"0 2000000 1", "1 2200000 65536"};
  }
  ASSERT_TRUE(b.has_namespace("user"));
  Result r = run_sh(b, std::string(kMapsScript) + "id -u; id -g");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto s = sections(r.out);
  ASSERT_EQ(s.size(), 3u) << r.describe();
  EXPECT_EQ(norm_lines(s[0]), want_uid) << s[0];
  EXPECT_EQ(norm_lines(s[1]), want_gid) << s[1];
  EXPECT_EQ(norm_lines(s[2]), (std::vector<std::string>{"0", "0"}));
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
}

TEST_P(UsernsRootless, MappingOfIdsNotOwnedFails) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  b.config["linux"]["uidMappings"] = {mapping(0, identity().uid, 1), mapping(1, 5000000, 10)};
  b.save();
  Result r = create(b, "notowned");
  expect_clean_failure(r, "uidMappings");
}

TEST_P(Userns, ZeroSizeMappingFails) {
  Bundle b = make_bundle();
  b.add_namespace("user");
  if (rootless()) {
    map_subordinate_ids(b);
    b.config["linux"]["uidMappings"][1]["size"] = 0;
  } else {
    b.config["linux"]["uidMappings"] = {mapping(0, 2000000, 1), mapping(1, 2100000, 0)};
    b.config["linux"]["gidMappings"] = {mapping(0, 2000000, 1), mapping(1, 2100000, 100)};
  }
  b.save();
  Result r = create(b, "zerouid");
  expect_clean_failure(r, "uidMappings");
  if (!is_runc()) {
    EXPECT_NE(r.err.find("size"), std::string::npos) << r.describe();
  }

  // The same for gids, with valid uid mappings.
  b.config["linux"]["uidMappings"][1]["size"] = 100;
  b.config["linux"]["gidMappings"][1]["size"] = 0;
  b.save();
  r = create(b, "zerogid");
  expect_clean_failure(r, "gidMappings");
  if (!is_runc()) {
    EXPECT_NE(r.err.find("size"), std::string::npos) << r.describe();
  }
}

TEST_P(Userns, OverlappingMappingsFail) {
  Bundle b = make_bundle();
  b.add_namespace("user");
  uint32_t base = 2100000;
  if (rootless()) {
    map_subordinate_ids(b);
    base = world().subuid().first;
  } else {
    b.config["linux"]["gidMappings"] = {mapping(0, 2000000, 1), mapping(1, 2100000, 100)};
  }
  // Container ids 50-59 are in both the second and the third range.
  b.config["linux"]["uidMappings"] = {mapping(0, rootless() ? identity().uid : 2000000, 1),
                                      mapping(1, base, 100), mapping(50, base + 1000, 10)};
  b.save();
  Result r = create(b, "overlap");
  expect_clean_failure(r, "uidMappings");

  // Host ids overlapping: two container ranges onto the same host ids.
  b.config["linux"]["uidMappings"] = {mapping(0, rootless() ? identity().uid : 2000000, 1),
                                      mapping(1, base, 100), mapping(200, base + 50, 10)};
  b.save();
  r = create(b, "overlaphost");
  expect_clean_failure(r, "uidMappings");
}

// --- 4. Intermediate user namespace --------------------------------------------------------

// A user namespace made of one mapping of root, with process.user 1000:1000. Rootless: the
// caller's own ids (the shape `spec --rootless` wrote before it left the mappings to the
// runtime).
void single_root_mapping_with_user_1000(Bundle& b, const Identity& caller) {
  b.add_namespace("user");
  const uint32_t host_uid = caller.is_root() ? 3000000 : caller.uid;
  const uint32_t host_gid = caller.is_root() ? 3000000 : caller.gid;
  b.config["linux"]["uidMappings"] = {mapping(0, host_uid, 1)};
  b.config["linux"]["gidMappings"] = {mapping(0, host_gid, 1)};
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
}

void expect_intermediate_userns(const Result& r) {
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto s = sections(r.out);
  ASSERT_EQ(s.size(), 3u) << r.describe();
  EXPECT_EQ(norm_lines(s[0]), std::vector<std::string>{"1000 0 1"}) << s[0];
  EXPECT_EQ(norm_lines(s[1]), std::vector<std::string>{"1000 0 1"}) << s[1];
  EXPECT_EQ(norm_lines(s[2]), (std::vector<std::string>{"1000", "1000"})) << r.describe();
}

TEST_P(Userns, IntermediateUserNamespace) {
  Bundle b = make_bundle();
  single_root_mapping_with_user_1000(b, identity());
  ASSERT_EQ(b.config["linux"]["uidMappings"].size(), 1u);
  Result r = run_sh(b, std::string(kMapsScript) + "id -u; id -g");
  expect_intermediate_userns(r);
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
}

TEST_P(UsernsRootless, IntermediateUserNamespaceWithoutNewuidmap) {
  Bundle b = make_bundle();
  single_root_mapping_with_user_1000(b, identity());
  Result r = run_sh_without_newidmap(b, std::string(kMapsScript) + "id -u; id -g");
  expect_intermediate_userns(r);
  // A single mapping of the caller needs no helper: nothing to warn about.
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
}

// --- 5. run.oci.keep_original_groups -------------------------------------------------------

TEST_P(Userns, KeepOriginalGroups) {
  Bundle b = make_bundle();
  b.config["process"]["user"] = {{"uid", 0}, {"gid", 0}, {"additionalGids", {10, 20}}};
  const std::string script = "grep -E '^Groups:' /proc/self/status";
  if (!rootless()) {
    // Control: without the annotation the configured groups are set.
    Result r = run_sh(b, script);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(status_field(r.out, "Groups"), "10 20") << r.out;

    // With it, the runtime's own groups (7 and 8 here, set by setpriv) stay.
    b.config["annotations"]["run.oci.keep_original_groups"] = "1";
    b.sh(script);
    b.save();
    r = run_wrapped({"/usr/bin/setpriv", "--groups", "7,8"}, {"run", "--bundle", b.dir, "kg"});
    rt().run({"delete", "--force", "kg"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(status_field(r.out, "Groups"), "7 8") << r.out;
  } else {
    // The annotation keeps the runtime's own groups (the caller's group, container gid 0)
    // instead of additionalGids.
    b.config["annotations"]["run.oci.keep_original_groups"] = "1";
    Result r = run_sh(b, script);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    std::string groups = status_field(r.out, "Groups");
    EXPECT_TRUE(groups.find("10") == std::string::npos && groups.find("20") == std::string::npos)
        << "additionalGids must not be applied with the annotation: " << groups;
    EXPECT_TRUE(groups == "0" || groups == "65534" || groups.empty()) << groups;
  }
}

// --- 6. idmapped mounts --------------------------------------------------------------------

class UsernsIdmap : public Userns {
 protected:
  // A host directory owned by root (the caller when rootless) holding `f` owned by the same,
  // and, as root, `g` owned by 100000:100000.
  std::string make_source() {
    std::string d = make_host_dir("idm");
    write_file(d + "/f", "f\n");
    ::chown((d + "/f").c_str(), identity().uid, identity().gid);
    if (!rootless()) {
      write_file(d + "/g", "g\n");
      ::chown((d + "/g").c_str(), 100000, 100000);
    }
    return d;
  }
  // Root: container 0 -> host 100000 (65536 ids). Rootless: the user's subordinate ranges.
  void map_container(Bundle& b) {
    if (rootless()) {
      map_subordinate_ids(b);
      return;
    }
    b.add_namespace("user");
    b.config["linux"]["uidMappings"] = {mapping(0, 100000, 65536)};
    b.config["linux"]["gidMappings"] = {mapping(0, 100000, 65536)};
  }
  // Skips when the kernel or /tmp's filesystem cannot id-map a mount (root only: as rootless the
  // runtime must report the failure itself).
  void skip_without_kernel_support(const std::string& source) {
    std::string reason = idmap_kernel_support(source);
    if (!reason.empty()) {
      GTEST_SKIP() << "the kernel refuses idmapped mounts of " << source << ": " << reason;
    }
  }
  // Rootless: the kernel does not let an unprivileged user id-map a host filesystem's mount.
  // Either it works (newer kernels may allow it) and is checked, or the failure names the mount
  // and leaves nothing behind. Returns true when the run failed cleanly.
  // make_source(); as root, the test skips when the kernel cannot idmap it (check IsSkipped()).
  std::string idmap_source() {
    std::string src = make_source();
    if (!rootless()) skip_without_kernel_support(src);
    return src;
  }
  bool rootless_refused(const Result& r) {
    if (r.exit_code == 0) return false;
    expect_clean_failure(r, "/mnt/a");
    EXPECT_TRUE(host_mounts_under(dir()).empty()) << "mounts left under " << dir();
    return true;
  }
};

TEST_P(UsernsIdmap, BareIdmapUsesContainerNamespace) {
  std::string src = idmap_source();
  if (IsSkipped()) return;
  Bundle b = make_bundle();
  map_container(b);
  b.add_mount({{"destination", "/mnt/a"},
               {"type", "bind"},
               {"source", src},
               {"options", {"bind", "idmap"}}});
  b.add_mount(
      {{"destination", "/mnt/b"}, {"type", "bind"}, {"source", src}, {"options", {"bind"}}});
  if (rootless()) {
    b.sh("stat -c '%u %g' /mnt/a/f /mnt/b/f");
    b.save();
    Result r = run_container(b, "idm");
    rt().run({"delete", "--force", "idm"});
    if (rootless_refused(r)) return;
    // On disk the caller's uid U is taken as container id U: host sub_uid + U - 1, seen as U.
    EXPECT_EQ(norm_lines(r.out), (std::vector<std::string>{uid() + " " + gid(), "0 0"}))
        << r.describe();
    return;
  }
  Result r = run_sh(b,
                    "stat -c '%u %g' /mnt/a/f /mnt/a/g /mnt/b/f /mnt/b/g; echo ==;"
                    " touch /mnt/a/new && echo created");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto s = sections(r.out);
  ASSERT_EQ(s.size(), 2u) << r.describe();
  // idmap: on-disk 0 appears as 0, on-disk 100000 is outside the mapping. Plain bind: the
  // reverse (host 0 is unmapped, host 100000 is container root).
  EXPECT_EQ(norm_lines(s[0]),
            (std::vector<std::string>{"0 0", "65534 65534", "65534 65534", "0 0"}))
      << r.describe();
  EXPECT_EQ(trim(s[1]), "created") << r.describe();
  // Container root writing through the idmapped mount creates an on-disk 0:0 file.
  EXPECT_EQ(owner_of(src + "/new"), "0:0");
}

TEST_P(UsernsIdmap, CustomMapping) {
  std::string src = idmap_source();
  if (IsSkipped()) return;
  Bundle b = make_bundle();
  map_container(b);
  // Triplets: on-disk id, host id, size. As root, host 100005/100007 are container 5/7.
  uint32_t host_uid = rootless() ? world().subuid().first + 4 : 100005;
  uint32_t host_gid = rootless() ? world().subgid().first + 6 : 100007;
  uint32_t disk_uid = identity().uid, disk_gid = identity().gid;
  std::string opt = "idmap=uids=" + std::to_string(disk_uid) + "-" + std::to_string(host_uid) +
                    "-10;gids=" + std::to_string(disk_gid) + "-" + std::to_string(host_gid) + "-10";
  b.add_mount(
      {{"destination", "/mnt/a"}, {"type", "bind"}, {"source", src}, {"options", {"bind", opt}}});
  b.sh("stat -c '%u %g' /mnt/a/f");
  b.save();
  Result r = run_container(b, "idmc");
  rt().run({"delete", "--force", "idmc"});
  if (rootless() && rootless_refused(r)) return;
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "5 7") << opt << "\n" << r.describe();
}

TEST_P(UsernsIdmap, RelativeMapping) {
  // The manual's `@` form: the host id is a container id, translated through the container's
  // mappings. As root, @0-5-10 with container 0 -> 100000 is 0-100005-10.
  std::string src = idmap_source();
  if (IsSkipped()) return;
  Bundle b = make_bundle();
  map_container(b);
  std::string opt = "idmap=uids=@" + uid() + "-5-10;gids=@" + gid() + "-7-10";
  b.add_mount(
      {{"destination", "/mnt/a"}, {"type", "bind"}, {"source", src}, {"options", {"bind", opt}}});
  b.sh(rootless() ? "stat -c '%u %g' /mnt/a/f" : "stat -c '%u %g' /mnt/a/f /mnt/a/g");
  b.save();
  Result r = run_container(b, "idmr");
  rt().run({"delete", "--force", "idmr"});
  if (rootless() && rootless_refused(r)) return;
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::vector<std::string> want = {"5 7"};
  if (!rootless()) want.push_back("65534 65534");  // on-disk 100000 is outside uids 0-9
  EXPECT_EQ(norm_lines(r.out), want) << opt << "\n" << r.describe();
}

class UsernsIdmapRootOnly : public UsernsIdmap {};

// The manual's example maps host ids 0 and 2: only root may.
TEST_P(UsernsIdmapRootOnly, ManualRelativeExample) {
  // The manual's worked example: with uidMappings 0->0 (1) and 1->2 (1000), `uids=@1-3-10` is
  // `uids=1-4-10`: an on-disk 1 is host 4, which the container sees as 3.
  std::string src = make_source();
  skip_without_kernel_support(src);
  if (IsSkipped()) return;
  write_file(src + "/one", "1\n");
  ASSERT_EQ(::chown((src + "/one").c_str(), 1, 1), 0);
  Bundle b = make_bundle();
  b.add_namespace("user");
  b.config["linux"]["uidMappings"] = {mapping(0, 0, 1), mapping(1, 2, 1000)};
  b.config["linux"]["gidMappings"] = {mapping(0, 0, 1), mapping(1, 2, 1000)};
  b.add_mount({{"destination", "/mnt/a"},
               {"type", "bind"},
               {"source", src},
               {"options", {"bind", "idmap=uids=@1-3-10;gids=@1-3-10"}}});
  Result r = run_sh(b, "stat -c '%u %g' /mnt/a/one /mnt/a/f");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  // On-disk 0 is outside the mount's 1-10.
  EXPECT_EQ(norm_lines(r.out), (std::vector<std::string>{"3 3", "65534 65534"})) << r.describe();
}

URUN_IT_INSTANTIATE(Userns);
URUN_IT_INSTANTIATE(UsernsIdmap);
URUN_IT_INSTANTIATE_ONLY(UsernsRootless, rootless);
URUN_IT_INSTANTIATE_ONLY(UsernsIdmapRootOnly, root);
URUN_IT_INSTANTIATE_ONLY(UsernsRootOnly, root);

}  // namespace
}  // namespace urun_it
