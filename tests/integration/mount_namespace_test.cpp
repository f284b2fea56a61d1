// Mount namespaces as runtime-spec says: an absent "mount" entry shares the runtime's mount
// namespace, and one with a path joins it. Without one of its own the container is chrooted into
// its rootfs and must not change the runtime's mount table in any way: no spec mounts, no
// devices, no pivot_root, no propagation change; a read-only root or a masked path that exists
// is refused, since either would need a mount there.
//
// Safety: every config here that shares the runtime's mount namespace runs the runtime inside
// `unshare -m --propagation private` (as root; the unprivileged runtime is started in it by
// setpriv), so a runtime that wrongly mounts changes only that throw-away namespace. The test
// reads that namespace's mount table before and after the run (where a bug would show) and the
// host's mounts below the test's paths afterwards.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.hpp"

namespace urun_it {
namespace {

std::string inode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "<missing " + path + ">";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// The namespace inode a /proc/<pid>/ns link names: "mnt:[4026531841]".
std::string ns_link(const std::string& path) {
  char buf[128] = {};
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "<unreadable " + path + ">";
}

class MountNamespace : public IntegrationTest {
 protected:
  static void remove_namespace(Bundle& b, const std::string& type) {
    Json out = Json::array();
    for (const auto& ns : b.config["linux"]["namespaces"])
      if (ns.value("type", "") != type) out.push_back(ns);
    b.config["linux"]["namespaces"] = out;
  }
  static void set_namespace_path(Bundle& b, const std::string& type, const std::string& path) {
    remove_namespace(b, type);
    b.config["linux"]["namespaces"].push_back({{"type", type}, {"path", path}});
  }

  // The mount table of the namespace the runtime ran in, before and after the run.
  struct MountTables {
    std::string before, after;
  };

  // `run --bundle B ID` in a private mount namespace made for it, as the mode's identity.
  Result run_in_private_mount_ns(Bundle& b, const std::string& id, MountTables& tables) {
    b.save();
    const std::string before = dir() + "/mounts-before", after = dir() + "/mounts-after";
    std::vector<std::string> runtime = {
        world().runtime(), "--root", rt().state_root(), "run", "--bundle", b.dir, id};
    if (rootless()) {
      const Identity& user = identity();
      runtime.insert(runtime.begin(), {"setpriv", "--reuid=" + std::to_string(user.uid),
                                       "--regid=" + std::to_string(user.gid), "--init-groups",
                                       "env", "HOME=" + user.home, "USER=" + user.name,
                                       "XDG_RUNTIME_DIR=/run/user/" + std::to_string(user.uid)});
    }
    const std::string script = "cat /proc/self/mountinfo > '" + before +
                               "'; \"$@\"; rc=$?; cat /proc/self/mountinfo > '" + after +
                               "'; exit $rc";
    std::vector<std::string> argv = {"unshare", "-m", "--propagation", "private",
                                     "sh",      "-c", script,          "sh"};
    argv.insert(argv.end(), runtime.begin(), runtime.end());
    Result r = run_as(Identity{}, argv, dir() + "/io", RunOptions{.cwd = dir()});
    tables.before = read_file(before);
    tables.after = read_file(after);
    rt().run({"delete", "--force", id});
    return r;
  }

  // The host's mounts on the test's paths: none before, none after.
  void expect_no_host_mounts() {
    EXPECT_TRUE(host_mounts_under(world().rootfs()).empty()) << "mounts left on the rootfs";
    EXPECT_TRUE(host_mounts_under(dir()).empty()) << "mounts left under " << dir();
  }

  static void expect_unchanged(const MountTables& tables) {
    EXPECT_FALSE(tables.before.empty()) << "the mount table was not read";
    EXPECT_EQ(tables.after, tables.before) << "the runtime changed its own mount namespace";
  }

  // A bundle without a mount namespace that may run: its root is not read-only.
  Bundle bundle_without_mount_namespace() {
    Bundle b = make_bundle();
    remove_namespace(b, "mount");
    b.config["root"]["readonly"] = false;
    return b;
  }

  static constexpr const char* kWhereAmI =
      "stat -c '%d:%i' /; echo ==; ls -A /proc | wc -l; ls -A /dev | wc -l; echo ==; "
      "cat /etc/hostname";
  // Runs kWhereAmI in `b`, which has no mount namespace of its own: the process is chrooted
  // into the rootfs as it is on the host (no /proc, no /dev mounted in it), and no mount of
  // the host changed. Call through ASSERT_NO_FATAL_FAILURE.
  void run_where_am_i(Bundle& b, const std::string& id, Result& r) {
    b.sh(kWhereAmI);
    MountTables tables;
    r = run_in_private_mount_ns(b, id, tables);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(split_lines(r.out),
              (std::vector<std::string>{inode_of(b.rootfs), "==", "0", "0", "==", "urun"}))
        << r.describe();
    expect_unchanged(tables);
    expect_no_host_mounts();
  }
};

TEST_P(MountNamespace, AbsentMountNamespaceIsInheritedAndUntouched) {
  Bundle b = bundle_without_mount_namespace();
  ASSERT_FALSE(b.has_namespace("mount"));
  ASSERT_FALSE(b.config["mounts"].empty());
  Result r;
  ASSERT_NO_FATAL_FAILURE(run_where_am_i(b, "nomnt", r));
  // One warning naming what was left out and why.
  auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << r.describe();
  EXPECT_NE(lines[0].find("mount namespace"), std::string::npos) << r.describe();
  EXPECT_NE(lines[0].find(std::to_string(b.config["mounts"].size()) + " mounts"), std::string::npos)
      << r.describe();
}

TEST_P(MountNamespace, JoiningTheRuntimesOwnMountNamespaceIsLikeNone) {
  // /proc/self is the runtime when it opens the path: its own mount namespace. pivot_root there
  // would move the root of every process in it.
  Bundle b = bundle_without_mount_namespace();
  set_namespace_path(b, "mount", "/proc/self/ns/mnt");
  Result r;
  ASSERT_NO_FATAL_FAILURE(run_where_am_i(b, "ownmnt", r));
}

TEST_P(MountNamespace, ReadonlyRootWithoutMountNamespaceIsRefused) {
  Bundle b = make_bundle();
  remove_namespace(b, "mount");
  ASSERT_TRUE(b.config["root"].value("readonly", false));
  b.sh("echo container-ran");
  MountTables tables;
  Result r = run_in_private_mount_ns(b, "rorefused", tables);
  expect_clean_failure(r, "root.readonly");
  EXPECT_NE(r.err.find("mount namespace"), std::string::npos) << r.describe();
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos) << r.describe();
  expect_unchanged(tables);
  expect_no_host_mounts();
}

TEST_P(MountNamespace, MaskedPathThatExistsWithoutMountNamespaceIsRefused) {
  const std::pair<const char*, const char*> cases[] = {{"maskedPaths", "/etc/passwd"},
                                                       {"readonlyPaths", "/etc"}};
  for (const auto& [field, path] : cases) {
    SCOPED_TRACE(field);
    Bundle b = make_bundle(BundleOptions{.name = std::string("b-") + field});
    remove_namespace(b, "mount");
    b.config["root"]["readonly"] = false;
    b.config["mounts"] = Json::array();  // nothing to warn about: the error is the one line
    // The default entries (/proc/kcore...) do not exist in the rootfs: only this one matters.
    b.config["linux"][field].push_back(path);
    b.sh("echo container-ran");
    MountTables tables;
    Result r = run_in_private_mount_ns(b, std::string("mask-") + field, tables);
    expect_clean_failure(r, field);
    EXPECT_NE(r.err.find(path), std::string::npos) << r.describe();
    EXPECT_EQ(r.out.find("container-ran"), std::string::npos) << r.describe();
    expect_unchanged(tables);
    expect_no_host_mounts();
  }
}

// A mount namespace joined by path is the container's: the rootfs and its mounts are set up in
// it, and the runtime's is left alone. The namespace is a holder's, made by `unshare -m` (as the
// user with `-U` too, and the container joins that user namespace as well: only its own user
// namespace may enter a mount namespace).
TEST_P(MountNamespace, JoinedByPath) {
  std::vector<std::string> holder_argv = {"unshare", "-m", "--propagation", "private"};
  if (rootless()) holder_argv.insert(holder_argv.begin() + 1, {"-U", "-r"});
  holder_argv.insert(holder_argv.end(), {"sleep", "60"});
  Proc holder = spawn_as(identity(), holder_argv, dir() + "/io", RunOptions{.cwd = dir()});
  const std::string ns_dir = "/proc/" + std::to_string(holder.pid()) + "/ns/";
  // unshare execs sleep once its namespaces are made.
  for (int i = 0; i < 200 && ns_link(ns_dir + "mnt") == ns_link("/proc/self/ns/mnt"); ++i)
    ::usleep(10000);
  const std::string holder_mnt = ns_link(ns_dir + "mnt");
  ASSERT_NE(holder_mnt, ns_link("/proc/self/ns/mnt")) << "the holder has no mount namespace";

  Bundle b = make_bundle();
  set_namespace_path(b, "mount", ns_dir + "mnt");
  if (rootless()) set_namespace_path(b, "user", ns_dir + "user");
  b.sh(
      "readlink /proc/self/ns/mnt; stat -c '%d:%i' /;"
      " awk '$5 == \"/\" || $5 == \"/proc\" { print $5 }' /proc/self/mountinfo");
  b.save();
  Result r = run_container(b, "joined");
  rt().run({"delete", "--force", "joined"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.describe();
  EXPECT_EQ(lines[0], holder_mnt) << "the container is not in the joined mount namespace";
  // pivot_root to the rootfs, with its /proc mounted: the spec's mounts were made there.
  EXPECT_EQ(lines[1], inode_of(b.rootfs)) << r.describe();
  EXPECT_EQ(lines[2], "/") << r.describe();
  EXPECT_EQ(lines[3], "/proc") << r.describe();
  EXPECT_TRUE(r.err_lines().empty()) << r.describe();
  expect_no_host_mounts();
  holder.kill_group(SIGKILL);
  holder.wait();
}

// setns() of a mount namespace needs rights in the user namespace that owns it; a user
// namespace the container creates has none, so the runtime says so before it starts.
TEST_P(MountNamespace, JoinedMountNamespaceFromANewUserNamespaceIsRefused) {
  std::vector<std::string> holder_argv = {"unshare", "-m", "--propagation", "private"};
  if (rootless()) holder_argv.insert(holder_argv.begin() + 1, {"-U", "-r"});
  holder_argv.insert(holder_argv.end(), {"sleep", "60"});
  Proc holder = spawn_as(identity(), holder_argv, dir() + "/io", RunOptions{.cwd = dir()});
  const std::string mnt = "/proc/" + std::to_string(holder.pid()) + "/ns/mnt";
  for (int i = 0; i < 200 && ns_link(mnt) == ns_link("/proc/self/ns/mnt"); ++i) ::usleep(10000);

  Bundle b = make_bundle();
  set_namespace_path(b, "mount", mnt);
  b.add_namespace("user");  // new: the rootless spec has one already
  b.save();
  Result r = create(b, "joinfail");
  expect_clean_failure(r, mnt);
  EXPECT_NE(r.err.find("user namespace"), std::string::npos) << r.describe();
  expect_no_host_mounts();
  holder.kill_group(SIGKILL);
  holder.wait();
}

URUN_IT_INSTANTIATE(MountNamespace);

}  // namespace
}  // namespace urun_it
