// Mount-level uidMappings/gidMappings (runtime-spec 1.2+: the runtime MUST make an idmapped
// mount with them), with and without a container user namespace, and crun's src-nofollow and
// dest-nofollow bind options.
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

Json mapping(uint32_t container_id, uint32_t host_id, uint32_t size) {
  return {{"containerID", container_id}, {"hostID", host_id}, {"size", size}};
}

// "0 0\n65534 65534\n" with runs of blanks squeezed.
std::vector<std::string> words_by_line(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(text)) {
    std::istringstream is(line);
    std::string w, joined;
    while (is >> w) joined += (joined.empty() ? "" : " ") + w;
    if (!joined.empty()) out.push_back(joined);
  }
  return out;
}

// "" when this kernel can id-map a detached bind mount of `dir` (root only), else why not.
std::string idmap_support(const std::string& dir) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    if (::unshare(CLONE_NEWUSER) != 0) _exit(1);
    ::close(ready[1]);  // tells the parent the namespace exists
    ::pause();
    _exit(0);
  }
  ::close(ready[1]);
  char c;
  (void)::read(ready[0], &c, 1);
  ::close(ready[0]);
  std::string reason;
  const std::string proc = "/proc/" + std::to_string(child);
  try {
    write_file(proc + "/uid_map", "0 100000 65536\n");
    write_file(proc + "/gid_map", "0 100000 65536\n");
    int ns = ::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    int tree = ::open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(ns);
    if (ns < 0 || tree < 0 || ::mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
      reason = std::string("id-mapped bind mount: ") + std::strerror(errno);
    if (ns >= 0) ::close(ns);
    if (tree >= 0) ::close(tree);
  } catch (const std::exception& e) {
    reason = e.what();
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return reason;
}

// Runs a script in a container and deletes it.
class ScriptRuns : public IntegrationTest {
 protected:
  Result run_sh(Bundle& b, const std::string& id, const std::string& script) {
    b.sh(script);
    b.save();
    Result r = run_container(b, id);
    rt().run({"delete", "--force", id});
    return r;
  }
};

class MountIdmap : public ScriptRuns {
 protected:
  // A host directory holding `f` owned by the mode's identity and, as root, `g` owned by
  // 100000:100000.
  std::string make_source() {
    std::string d = make_host_dir("src");
    write_file(d + "/f", "f\n");
    EXPECT_EQ(::chown((d + "/f").c_str(), identity().uid, identity().gid), 0);
    if (!rootless()) {
      write_file(d + "/g", "g\n");
      EXPECT_EQ(::chown((d + "/g").c_str(), 100000, 100000), 0);
    }
    return d;
  }
  Json mapped_bind(const std::string& src, const std::string& dest, Json uids, Json gids) {
    return {{"destination", dest},
            {"type", "bind"},
            {"source", src},
            {"options", {"bind"}},
            {"uidMappings", std::move(uids)},
            {"gidMappings", std::move(gids)}};
  }
  // One stderr line naming `what`, nothing left behind.
  void expect_config_error(Bundle& b, const std::string& what) {
    b.save();
    Result r = run_container(b, "bad");
    expect_clean_failure(r, what);
    EXPECT_TRUE(host_mounts_under(dir()).empty());
  }
};

// Root: the container's user namespace maps 0 -> 100000; the mount maps on-disk ids with its own
// mapping. The mount's first mapping equals the container's (its namespace is reused), the second
// maps on-disk 0 to host 100005, container id 5.
TEST_P(MountIdmap, OwnMappingsWithContainerUserNamespace) {
  std::string src = make_source();
  Bundle b = make_bundle();
  if (rootless()) {
    // What the kernel allows an unprivileged user: nothing on a host filesystem, whatever the
    // mapping. Host ids inside the container's own ranges: the user's subordinate ids.
    map_subordinate_ids(b);
    const uint32_t sub = world().subuid().first, subg = world().subgid().first;
    b.add_mount(mapped_bind(src, "/mnt/a", {mapping(identity().uid, sub + 4, 1)},
                            {mapping(identity().gid, subg + 6, 1)}));
    b.sh("stat -c '%u %g' /mnt/a/f");
    b.save();
    Result r = run_container(b, "own");
    rt().run({"delete", "--force", "own"});
    if (r.exit_code == 0) {
      // A kernel that allows it must show the mapping: host sub+4 is container 5.
      EXPECT_EQ(trim(r.out), "5 7") << r.describe();
      return;
    }
    expect_clean_failure(r, "/mnt/a");
    EXPECT_NE(r.err.find("only root on the host may id-map"), std::string::npos) << r.describe();
    EXPECT_TRUE(host_mounts_under(dir()).empty());
    return;
  }
  if (std::string why = idmap_support(src); !why.empty()) GTEST_SKIP() << why;
  b.add_namespace("user");
  b.config["linux"]["uidMappings"] = {mapping(0, 100000, 65536)};
  b.config["linux"]["gidMappings"] = {mapping(0, 100000, 65536)};
  // /mnt/a and /mnt/b exist in the shared (read-only) test rootfs.
  b.add_mount(mapped_bind(src, "/mnt/a", {mapping(0, 100000, 65536)}, {mapping(0, 100000, 65536)}));
  b.add_mount(mapped_bind(src, "/mnt/b", {mapping(0, 100005, 10)}, {mapping(0, 100007, 10)}));
  Result r = run_sh(b, "own",
                    "stat -c '%u %g' /mnt/a/f /mnt/a/g /mnt/b/f /mnt/b/g;"
                    " touch /mnt/b/new 2>/dev/null || echo refused");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(words_by_line(r.out),
            (std::vector<std::string>{"0 0", "65534 65534", "5 7", "65534 65534", "refused"}))
      << r.describe();
  // Container root (host 100000) writes through /mnt/b: it is no id the mount maps.
  struct stat st {};
  EXPECT_NE(::stat((src + "/new").c_str(), &st), 0) << "file created through an unmapped id";
}

// Without a user namespace the mount still gets its own mapping: on-disk 0 shows as 1000.
TEST_P(MountIdmap, OwnMappingsWithoutUserNamespace) {
  if (rootless()) GTEST_SKIP() << "an unprivileged container always has a user namespace";
  std::string src = make_source();
  if (std::string why = idmap_support(src); !why.empty()) GTEST_SKIP() << why;
  Bundle b = make_bundle();
  ASSERT_FALSE(b.has_namespace("user"));
  b.add_mount(mapped_bind(src, "/mnt/a", {mapping(0, 1000, 10)}, {mapping(0, 2000, 10)}));
  Result r = run_sh(b, "nouserns", "stat -c '%u %g' /mnt/a/f /mnt/a/g");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(words_by_line(r.out), (std::vector<std::string>{"1000 2000", "65534 65534"}))
      << r.describe();
}

TEST_P(MountIdmap, InvalidMappingsAreRefusedBeforeCreate) {
  std::string src = make_source();
  {
    Bundle b = make_bundle({.name = "one-side"});
    Json m = mapped_bind(src, "/mnt/a", {mapping(0, 100000, 10)}, Json::array());
    m.erase("gidMappings");
    b.add_mount(m);
    expect_config_error(b, "needs both uidMappings and gidMappings");
  }
  {
    Bundle b = make_bundle({.name = "tmpfs"});
    b.add_mount({{"destination", "/mnt/t"},
                 {"type", "tmpfs"},
                 {"source", "tmpfs"},
                 {"uidMappings", {mapping(0, 100000, 10)}},
                 {"gidMappings", {mapping(0, 100000, 10)}}});
    expect_config_error(b, "supported on bind mounts only");
  }
  {
    Bundle b = make_bundle({.name = "overlap"});
    b.add_mount(mapped_bind(src, "/mnt/a", {mapping(0, 100000, 10), mapping(5, 200000, 10)},
                            {mapping(0, 100000, 10)}));
    expect_config_error(b, "overlap in the container");
  }
  {
    Bundle b = make_bundle({.name = "zero"});
    b.add_mount(mapped_bind(src, "/mnt/a", {mapping(0, 100000, 10)}, {mapping(0, 100000, 0)}));
    expect_config_error(b, "gidMappings[0]: size must not be 0");
  }
}

URUN_IT_INSTANTIATE(MountIdmap);

class MountNofollow : public ScriptRuns {};

// src-nofollow binds a symlink source itself: a link to a host file shows as that link (dangling
// in the container), never as the host file it names. Without it the target is bound.
TEST_P(MountNofollow, SourceSymlinkIsBoundItself) {
  std::string d = make_host_dir("host");
  write_file(d + "/secret", "host secret\n");
  ASSERT_EQ(::symlink((d + "/secret").c_str(), (d + "/link").c_str()), 0);
  // The destinations are created: a private copy of the rootfs.
  Bundle b = make_bundle({.writable_rootfs = true});
  b.add_mount({{"destination", "/mnt/nofollow"},
               {"type", "bind"},
               {"source", d + "/link"},
               {"options", {"bind", "src-nofollow"}}});
  b.add_mount({{"destination", "/mnt/follow"},
               {"type", "bind"},
               {"source", d + "/link"},
               {"options", {"bind"}}});
  Result r = run_sh(b, "srcnf",
                    "readlink /mnt/nofollow; cat /mnt/nofollow 2>/dev/null || echo unreadable;"
                    " cat /mnt/follow");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(split_lines(r.out),
            (std::vector<std::string>{d + "/secret", "unreadable", "host secret"}))
      << r.describe();
}

// dest-nofollow covers a symlink destination itself instead of what it points to in the rootfs.
TEST_P(MountNofollow, DestinationSymlinkIsCoveredItself) {
  std::string d = make_host_dir("host");
  write_file(d + "/data", "mounted\n");
  ASSERT_EQ(::chown((d + "/data").c_str(), identity().uid, identity().gid), 0);
  Bundle b = make_bundle({.writable_rootfs = true});
  host_sh("printf 'original\\n' > '" + b.rootfs + "/etc/target' && ln -s /etc/target '" + b.rootfs +
          "/etc/link' && ln -s /etc/target2 '" + b.rootfs + "/etc/link2' &&" +
          " printf 'original2\\n' > '" + b.rootfs + "/etc/target2'" +
          (rootless() ? " && chown -h " + std::to_string(identity().uid) + " '" + b.rootfs +
                            "/etc/target' '" + b.rootfs + "/etc/link' '" + b.rootfs +
                            "/etc/target2' '" + b.rootfs + "/etc/link2'"
                      : std::string()));
  b.add_mount({{"destination", "/etc/link"},
               {"type", "bind"},
               {"source", d + "/data"},
               {"options", {"bind", "dest-nofollow", "ro"}}});
  b.add_mount({{"destination", "/etc/link2"},
               {"type", "bind"},
               {"source", d + "/data"},
               {"options", {"bind"}}});
  Result r = run_sh(b, "destnf",
                    "cat /etc/link /etc/target; [ -L /etc/link ] && echo link || echo covered;"
                    " cat /etc/link2 /etc/target2; [ -L /etc/link2 ] && echo link2;"
                    " echo x >> /etc/link 2>/dev/null && echo writable || echo read-only");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(split_lines(r.out),
            (std::vector<std::string>{"mounted", "original", "covered", "mounted", "mounted",
                                      "link2", "read-only"}))
      << r.describe();
  // The rootfs itself is unchanged: the link is still a link.
  struct stat st {};
  ASSERT_EQ(::lstat((b.rootfs + "/etc/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_P(MountNofollow, CopySymlinkExcludesNofollow) {
  std::string d = make_host_dir("host");
  Bundle b = make_bundle();
  b.add_mount({{"destination", "/mnt/x"},
               {"type", "bind"},
               {"source", d},
               {"options", {"bind", "copy-symlink", "dest-nofollow"}}});
  b.save();
  Result r = run_container(b, "excl");
  expect_clean_failure(r, "copy-symlink is mutually exclusive");
}

URUN_IT_INSTANTIATE(MountNofollow);

}  // namespace
}  // namespace urun_it
