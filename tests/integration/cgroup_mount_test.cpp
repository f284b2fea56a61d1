// The container's /sys/fs/cgroup (a spec mount of type `cgroup`): on this
// hybrid host a tmpfs with one entry per host hierarchy, each showing only the container's own
// cgroup (as root) or the runtime's own cgroup (rootless: no cgroup of its own), read-only
// unless the mount says rw; in a cgroup namespace each hierarchy is a fresh mount whose root is
// that cgroup. Nothing of it may stay mounted on the host.
#include <sys/stat.h>
#include <sys/statfs.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace urun_it {
namespace {

class CgroupMount : public IntegrationTest {};
class CgroupMountRoot : public IntegrationTest {};

constexpr int64_t kLimit = 48 * 1024 * 1024;

bool host_is_unified() {
  struct statfs st {};
  return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == 0x63677270;
}

// The host's hierarchies: directories of /sys/fs/cgroup that are their own filesystem.
std::vector<std::string> host_hierarchies() {
  std::vector<std::string> out;
  struct stat top {};
  ::stat("/sys/fs/cgroup", &top);
  for (const auto& e : std::filesystem::directory_iterator("/sys/fs/cgroup")) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev != top.st_dev)
      out.push_back(e.path().filename());
  }
  return out;
}

// What the container's /sys/fs/cgroup should list: every host hierarchy and a link per
// controller of a co-mounted one (cpu -> cpu,cpuacct).
std::set<std::string> expected_entries() {
  std::set<std::string> out;
  for (const auto& name : host_hierarchies()) {
    out.insert(name);
    std::stringstream parts(name);
    for (std::string part; std::getline(parts, part, ',');) out.insert(part);
  }
  return out;
}

std::set<std::string> word_set(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

std::string value_of(const std::string& out, const std::string& key) {
  for (const auto& line : split_lines(out))
    if (line.rfind(key + "=", 0) == 0) return trim(line.substr(key.size() + 1));
  return "";
}

// Lines of the output that start with `prefix`, without it.
std::vector<std::string> prefixed(const std::string& out, const std::string& prefix) {
  std::vector<std::string> lines;
  for (const auto& line : split_lines(out))
    if (line.rfind(prefix, 0) == 0) lines.push_back(line.substr(prefix.size()));
  return lines;
}

// Replaces the config's mounts at /sys/fs/cgroup with one cgroup mount with `options`.
void set_cgroup_mount(Bundle& b, const std::vector<std::string>& options) {
  Json kept = Json::array();
  for (const auto& m : b.config["mounts"])
    if (m.value("destination", "") != "/sys/fs/cgroup") kept.push_back(m);
  b.config["mounts"] = kept;
  b.add_mount({{"destination", "/sys/fs/cgroup"},
               {"type", "cgroup"},
               {"source", "cgroup"},
               {"options", options}});
}

// A bundle whose config has exactly one cgroup mount at /sys/fs/cgroup with `options` (the
// rootless default spec has none on a v1 host), a memory limit, and a script that reports what
// the container sees.
Bundle cgroup_bundle(Bundle b, const std::vector<std::string>& options) {
  set_cgroup_mount(b, options);
  b.config["linux"]["resources"]["memory"] = {{"limit", kLimit}};
  b.sh(
      "echo ls=$(ls /sys/fs/cgroup); "
      "echo procs=$(cat /sys/fs/cgroup/pids/cgroup.procs); "
      "echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); "
      "echo subdirs=$(find /sys/fs/cgroup/memory /sys/fs/cgroup/pids -mindepth 1 -type d | wc -l); "
      "sed 's/^/cg:/' /proc/self/cgroup; "
      "grep ' /sys/fs/cgroup' /proc/self/mountinfo | awk '{print \"mnt:\" $5 \" \" $6}'; "
      "touch /sys/fs/cgroup/x 2>/dev/null && echo tmpfs_write=ok || echo tmpfs_write=refused; "
      "touch /sys/fs/cgroup/pids/x 2>/dev/null && echo cg_write=ok || echo cg_write=refused; "
      "echo done=1");
  b.save();
  return b;
}

// The options of each mount under /sys/fs/cgroup that the container sees: of the mounts at one
// point the last one listed is on top (a rootless /sys is a bind of the host's, whose own
// cgroup mounts lie underneath).
std::map<std::string, std::string> top_mounts(const std::string& out) {
  std::map<std::string, std::string> top;
  for (const auto& m : prefixed(out, "mnt:")) {
    size_t sp = m.find(' ');
    if (sp != std::string::npos) top[m.substr(0, sp)] = m.substr(sp + 1);
  }
  return top;
}

// The caller's own cgroups (the runtime runs in them; a container without a cgroup of its own
// stays there).
std::vector<std::string> own_proc_cgroup() { return split_lines(read_file("/proc/self/cgroup")); }

TEST_P(CgroupMount, ShowsOnlyTheContainersOwnCgroupReadOnly) {
  if (host_is_unified()) GTEST_SKIP() << "checks the v1/hybrid layout of this host";
  if (is_runc())
    GTEST_SKIP() << "runc shows no `unified` tree, leaves the tmpfs writable and cannot make "
                    "this mount rootless on a v1 host";
  const auto mounts_before = host_mounts_under("/sys/fs/cgroup");
  Bundle b = cgroup_bundle(make_bundle(), {"nosuid", "noexec", "nodev", "relatime", "ro"});
  Result r = run_container(b, "cgmnt");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  ASSERT_EQ(value_of(r.out, "done"), "1") << r.describe();

  EXPECT_EQ(word_set(value_of(r.out, "ls")), expected_entries()) << r.describe();
  // The shown cgroup holds the container's init (pid 1 in its pid namespace).
  EXPECT_TRUE(word_set(value_of(r.out, "procs")).count("1")) << r.describe();
  auto cgroups = prefixed(r.out, "cg:");
  if (!rootless()) {
    // Each hierarchy shows one cgroup without sub-cgroups: not a hierarchy's root, where the
    // host's cgroups are.
    EXPECT_EQ(value_of(r.out, "subdirs"), "0") << r.describe();
    // Its own cgroup: the limit of the config, and /proc/self/cgroup names it everywhere.
    EXPECT_EQ(value_of(r.out, "limit"), std::to_string(kLimit)) << r.describe();
    ASSERT_FALSE(cgroups.empty()) << r.describe();
    for (const auto& line : cgroups)
      EXPECT_NE(line.find("/cgmnt"), std::string::npos) << line << "\n" << r.describe();
  } else {
    // No cgroup of its own: it stays in the runtime's, and that is what it sees.
    EXPECT_EQ(cgroups, own_proc_cgroup()) << r.describe();
    EXPECT_FALSE(value_of(r.out, "limit").empty()) << r.describe();
  }
  // Read-only: the tmpfs and every hierarchy.
  EXPECT_EQ(value_of(r.out, "tmpfs_write"), "refused") << r.describe();
  EXPECT_EQ(value_of(r.out, "cg_write"), "refused") << r.describe();
  auto mnts = top_mounts(r.out);
  EXPECT_EQ(mnts.size(), 1 + host_hierarchies().size()) << r.describe();
  for (const auto& [point, options] : mnts) {
    EXPECT_EQ(options.rfind("ro,", 0), 0u) << point << " " << options;
    EXPECT_NE(options.find("nosuid"), std::string::npos) << point << " " << options;
  }
  EXPECT_TRUE(r.err_lines().empty() || rootless()) << r.describe();
  EXPECT_EQ(host_mounts_under("/sys/fs/cgroup"), mounts_before) << "mounts leaked to the host";
  EXPECT_TRUE(state_entries().empty());
}

TEST_P(CgroupMount, InACgroupNamespaceTheCgroupIsTheRoot) {
  if (host_is_unified()) GTEST_SKIP() << "checks the v1/hybrid layout of this host";
  if (is_runc())
    GTEST_SKIP() << "runc shows no `unified` tree, leaves the tmpfs writable and cannot make "
                    "this mount rootless on a v1 host";
  const auto mounts_before = host_mounts_under("/sys/fs/cgroup");
  Bundle b = make_bundle();
  b.add_namespace("cgroup");
  b = cgroup_bundle(b, {"nosuid", "noexec", "nodev", "relatime", "ro"});
  Result r = run_container(b, "cgns");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(word_set(value_of(r.out, "ls")), expected_entries()) << r.describe();
  // Rootless, the cgroup shown is the runtime's, which may have sub-cgroups.
  if (!rootless()) {
    EXPECT_EQ(value_of(r.out, "subdirs"), "0") << r.describe();
  }
  EXPECT_TRUE(word_set(value_of(r.out, "procs")).count("1")) << r.describe();
  auto cgroups = prefixed(r.out, "cg:");
  ASSERT_FALSE(cgroups.empty()) << r.describe();
  for (const auto& line : cgroups)
    EXPECT_EQ(line.substr(line.rfind(':')), ":/") << "the namespace's root\n" << r.describe();
  if (!rootless()) {
    EXPECT_EQ(value_of(r.out, "limit"), std::to_string(kLimit)) << r.describe();
  }
  EXPECT_EQ(value_of(r.out, "tmpfs_write"), "refused") << r.describe();
  EXPECT_EQ(value_of(r.out, "cg_write"), "refused") << r.describe();
  EXPECT_EQ(host_mounts_under("/sys/fs/cgroup"), mounts_before) << "mounts leaked to the host";
}

TEST_P(CgroupMount, RwOptionLeavesItWritable) {
  if (host_is_unified()) GTEST_SKIP() << "checks the v1/hybrid layout of this host";
  if (is_runc())
    GTEST_SKIP() << "runc shows no `unified` tree, leaves the tmpfs writable and cannot make "
                    "this mount rootless on a v1 host";
  Bundle b = cgroup_bundle(make_bundle(), {"nosuid", "noexec", "nodev", "rw"});
  Result r = run_container(b, "cgrw");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(value_of(r.out, "tmpfs_write"), "ok") << r.describe();
  for (const auto& [point, options] : top_mounts(r.out))
    EXPECT_EQ(options.rfind("rw,", 0), 0u) << point << " " << options;
}

// As root the container's own cgroup is writable with rw: a sub-cgroup made inside is removed
// with the container.
TEST_P(CgroupMountRoot, RwOwnCgroupTakesASubCgroup) {
  if (host_is_unified()) GTEST_SKIP() << "checks the v1/hybrid layout of this host";
  if (is_runc()) GTEST_SKIP() << "checks urun's cgroup naming";
  Bundle b = make_bundle();
  set_cgroup_mount(b, {"nosuid", "noexec", "nodev", "rw"});
  b.sh("mkdir /sys/fs/cgroup/pids/sub && echo made=1; ls -d /sys/fs/cgroup/pids/sub");
  b.save();
  Result r = run_container(b, "cgsub");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(value_of(r.out, "made"), "1") << r.describe();
  EXPECT_EQ(host_sh("find /sys/fs/cgroup -maxdepth 3 -type d -name 'cgsub*' | wc -l"), "0\n");
}

URUN_IT_INSTANTIATE(CgroupMount);
URUN_IT_INSTANTIATE_ONLY(CgroupMountRoot, root);

}  // namespace
}  // namespace urun_it
