// Host-side paths a container with a user namespace needs but its root may not reach: the
// bundle, bind-mount sources and device nodes (opened or made by the privileged side before the
// namespace's ids apply), and mount propagation between an `rshared` volume and the host.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

Json mapping(uint32_t container_id, uint32_t host_id, uint32_t size) {
  return {{"containerID", container_id}, {"hostID", host_id}, {"size", size}};
}

class HostPaths : public IntegrationTest {
 protected:
  // Runs `script` under sh in a fresh container of bundle `b` and returns the result.
  Result run_sh(Bundle& b, const std::string& script) {
    b.sh(script);
    b.save();
    std::string id = "h" + std::to_string(++n_);
    Result r = run_container(b, id);
    rt().run({"delete", "--force", id});
    return r;
  }
  // A user namespace whose root is an id other than the bundle's owner, as `podman run --uidmap
  // 0:100000:65536` gives: root maps to 100000, the unprivileged user's root to its first
  // subordinate id (the user itself is not mapped).
  void map_root_elsewhere(Bundle& b) {
    b.add_namespace("user");
    if (rootless()) {
      auto [uid_start, uid_count] = world().subuid();
      auto [gid_start, gid_count] = world().subgid();
      b.config["linux"]["uidMappings"] = {mapping(0, uid_start, std::min(uid_count, 65536u))};
      b.config["linux"]["gidMappings"] = {mapping(0, gid_start, std::min(gid_count, 65536u))};
    } else {
      b.config["linux"]["uidMappings"] = {mapping(0, 100000, 65536)};
      b.config["linux"]["gidMappings"] = {mapping(0, 100000, 65536)};
    }
  }
  // Makes `path` a directory only its owner (the mode's identity, or `owner`) may enter.
  static void make_private(const std::string& path, uid_t owner, gid_t group) {
    ASSERT_EQ(::chown(path.c_str(), owner, group), 0) << path;
    ASSERT_EQ(::chmod(path.c_str(), 0700), 0) << path;
  }

 private:
  int n_ = 0;
};

// Podman 5's shape for `--uidmap`: the bundle (…/userdata) is 0700 and belongs to the caller,
// the rootfs lies elsewhere, and the files Podman binds (/etc/hosts...) are in the bundle, some
// given relative to it. The container's root, an unprivileged host id, cannot enter it.
TEST_P(HostPaths, PrivateBundleWithMappedRoot) {
  Bundle b = make_bundle();
  map_root_elsewhere(b);
  write_file(b.path("hosts"), "127.0.0.1 from-the-bundle\n");
  ::chown(b.path("hosts").c_str(), identity().uid, identity().gid);
  b.add_mount({{"destination", "/etc/hostname"},
               {"type", "bind"},
               {"source", "hosts"},
               {"options", {"bind", "ro"}}});
  make_private(b.dir, identity().uid, identity().gid);
  Result r = run_sh(b, "cat /etc/hostname; id -u");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "127.0.0.1 from-the-bundle\n0\n");
  EXPECT_TRUE(host_mounts_under(dir()).empty());
}

// The `urun spec` layout: the rootfs inside the bundle, which is 0700. The container's root can
// use the rootfs (its directories are world-searchable) but could not look it up by path.
TEST_P(HostPaths, RootfsInsidePrivateBundle) {
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  map_root_elsewhere(b);
  b.save();
  make_private(b.dir, identity().uid, identity().gid);
  Result r = run_sh(b, "cat /etc/hostname; id -u");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, read_file(b.rootfs + "/etc/hostname") + "0\n");
  EXPECT_TRUE(host_mounts_under(dir()).empty());
}

// A bind source below a directory only its owner may enter (root, or the unprivileged caller).
TEST_P(HostPaths, BindSourceUnderPrivateDirectory) {
  std::string priv = make_host_dir("private", 0700);
  ASSERT_EQ(::mkdir((priv + "/data").c_str(), 0755), 0);
  ::chown((priv + "/data").c_str(), identity().uid, identity().gid);
  write_file(priv + "/data/f", "secret-ok\n");
  Bundle b = make_bundle();
  map_root_elsewhere(b);
  b.add_mount({{"destination", "/mnt/a"},
               {"type", "bind"},
               {"source", priv + "/data"},
               {"options", {"rbind", "ro"}}});
  Result r = run_sh(b, "cat /mnt/a/f");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "secret-ok\n");
  EXPECT_TRUE(host_mounts_under(dir()).empty());
}

class HostPathsRootOnly : public HostPaths {};

// Directories root enters only through CAP_DAC_OVERRIDE (0700, owned by another user): the
// container's init, root of its user namespace but without privileges over the host, cannot
// open them even before it takes its namespace's ids. The runtime itself enters the bundle and
// clones the bind source for it.
TEST_P(HostPathsRootOnly, BundleAndSourceOnlyPrivilegeReaches) {
  constexpr uid_t kOther = 4242;
  std::string priv = make_host_dir("other", 0700);
  ASSERT_EQ(::mkdir((priv + "/data").c_str(), 0755), 0);
  ASSERT_EQ(::chown((priv + "/data").c_str(), kOther, kOther), 0);
  write_file(priv + "/data/f", "cloned-ok\n");
  make_private(priv, kOther, kOther);
  Bundle b = make_bundle();
  map_root_elsewhere(b);
  write_file(b.path("hosts"), "127.0.0.1 relative-ok\n");
  b.add_mount({{"destination", "/mnt/a"},
               {"type", "bind"},
               {"source", priv + "/data"},
               {"options", {"bind", "ro", "nosuid"}}});
  b.add_mount({{"destination", "/etc/hostname"},
               {"type", "bind"},
               {"source", "hosts"},
               {"options", {"bind", "ro"}}});
  // The clones get the mounts' flags like any bind.
  b.sh("cat /mnt/a/f /etc/hostname; awk '$5 == \"/mnt/a\" {print $6}' /proc/self/mountinfo");
  b.save();
  make_private(b.dir, kOther, kOther);
  Result r = run_container(b, "other");
  rt().run({"delete", "--force", "other"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_EQ(lines[0], "cloned-ok");
  EXPECT_EQ(lines[1], "127.0.0.1 relative-ok");
  EXPECT_TRUE(lines[2].rfind("ro,", 0) == 0 && lines[2].find("nosuid") != std::string::npos)
      << lines[2];
  EXPECT_TRUE(host_mounts_under(dir()).empty());
}

// --- linux.devices -----------------------------------------------------------------------------

class Devices : public HostPaths {};

// A device the host does not have. As root with a user namespace the container's root may not
// mknod: the runtime makes the node (with the config's mode and owner) and binds it in. An
// unprivileged caller can make no device node anywhere, so the create fails naming the device.
TEST_P(Devices, DeviceMissingOnHost) {
  const std::string path = "/dev/urun-it-null";
  ASSERT_FALSE(path_exists(path));
  Bundle b = make_bundle();
  map_root_elsewhere(b);
  b.config["linux"]["devices"] = Json::array({{{"path", path},
                                               {"type", "c"},
                                               {"major", 1},
                                               {"minor", 3},
                                               {"fileMode", 0640},
                                               {"uid", 0},
                                               {"gid", 0}}});
  b.config["linux"]["resources"]["devices"] = Json::array({{{"allow", true}, {"access", "rwm"}}});
  Result r = run_sh(b, "stat -c '%t,%T %a %u %g' " + path + "; echo x > " + path +
                           " && echo written; awk '$5 == \"" + path + "\" {print $6}' " +
                           "/proc/self/mountinfo");
  if (rootless()) {
    expect_clean_failure(r, path);
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.describe();
  EXPECT_EQ(lines[0], "1,3 640 0 0");
  EXPECT_EQ(lines[1], "written");
  EXPECT_NE(lines[2].find("nosuid"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("noexec"), std::string::npos) << lines[2];
  EXPECT_FALSE(path_exists(path)) << "the node was made on the host";
}

// Device nodes bound from the host (rootless; root in a user namespace) carry nosuid and noexec,
// as crun's do.
TEST_P(Devices, DeviceBindsAreNosuidNoexec) {
  Bundle b = make_bundle();
  map_root_elsewhere(b);
  b.config["linux"]["devices"] = Json::array(
      {{{"path", "/dev/kmsg"}, {"type", "c"}, {"major", 1}, {"minor", 11}, {"fileMode", 0644}}});
  Result r = run_sh(b,
                    "for d in /dev/null /dev/zero /dev/tty /dev/kmsg; do "
                    "awk -v d=$d '$5 == d {print d, $6}' /proc/self/mountinfo; done; "
                    "echo x > /dev/null && echo null-ok");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.describe();
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NE(lines[i].find("nosuid"), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find("noexec"), std::string::npos) << lines[i];
  }
  EXPECT_EQ(lines[4], "null-ok");
}

// --- rootfsPropagation rshared with an rshared volume ------------------------------------------

class Propagation : public HostPaths {
 protected:
  void TearDown() override {
    // Mounts that propagated to the host, then the shared mount point itself.
    if (!shared_.empty()) host_sh("umount -R -l '" + shared_ + "' 2>/dev/null || true");
    HostPaths::TearDown();
  }
  std::string shared_;
};

// With rootfsPropagation rshared, a volume bound rshared from a shared host mount point is a
// peer of it: mounts made on either side appear on the other. As root only: a mount namespace
// that belongs to a user namespace receives the host's mounts as a slave (the kernel locks them
// against a less privileged namespace), so from a rootless container host mounts propagate in
// but its own mounts never reach the host.
TEST_P(Propagation, RsharedVolumeWithRsharedRootfs) {
  shared_ = make_host_dir("shared");
  host_sh("mount --bind '" + shared_ + "' '" + shared_ + "' && mount --make-shared '" + shared_ +
          "'");
  ::mkdir((shared_ + "/c").c_str(), 0755);
  ::mkdir((shared_ + "/h").c_str(), 0755);
  ::chown((shared_ + "/c").c_str(), identity().uid, identity().gid);
  Bundle b = make_bundle();
  b.config["linux"]["rootfsPropagation"] = "rshared";
  b.add_mount({{"destination", "/mnt/a"},
               {"type", "bind"},
               {"source", shared_},
               {"options", {"rbind", "rshared"}}});
  for (const char* set : {"bounding", "effective", "permitted"})
    b.config["process"]["capabilities"][set].push_back("CAP_SYS_ADMIN");
  // Mounts a tmpfs in the volume, says so in the shared directory itself, then waits (up to
  // 20 s) for the host's mount.
  b.sh(
      "mount -t tmpfs tmpfs /mnt/a/c && echo from-container > /mnt/a/c/f && echo mounted && "
      "touch /mnt/a/ready; "
      "i=0; while [ ! -e /mnt/a/h/g ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; "
      "cat /mnt/a/h/g 2>/dev/null || echo no-host-mount");
  b.save();
  Proc p = rt().spawn({"run", "--bundle", b.dir, "prop"});
  for (int i = 0; i < 2000 && !path_exists(shared_ + "/ready") && p.running(); ++i)
    std::this_thread::sleep_for(10ms);
  // mount(2) returns once the new mount has propagated: by now it is on the host, if ever.
  const bool container_mount_on_host = path_exists(shared_ + "/c/f");
  host_sh("mount -t tmpfs tmpfs '" + shared_ + "/h' && echo from-host > '" + shared_ + "/h/g'");
  Result r = p.wait(30s);
  rt().run({"delete", "--force", "prop"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.describe();
  EXPECT_EQ(lines[0], "mounted");
  // Host -> container: both modes.
  EXPECT_EQ(lines[1], "from-host") << r.describe();
  // Container -> host: root only. Nothing else of the container reached the host: under the
  // test's directory there are only the shared mount point, the host's tmpfs and (as root) the
  // container's.
  std::vector<std::string> want = {shared_, shared_ + "/h"};
  if (rootless()) {
    EXPECT_FALSE(container_mount_on_host);
  } else {
    EXPECT_TRUE(container_mount_on_host) << "the container's mount did not reach the host";
    EXPECT_EQ(read_file(shared_ + "/c/f"), "from-container\n");
    want.push_back(shared_ + "/c");
  }
  auto mounts = host_mounts_under(dir());
  std::sort(mounts.begin(), mounts.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(mounts, want);
  host_sh("umount -R '" + shared_ + "'");
  shared_.clear();
  EXPECT_TRUE(host_mounts_under(dir()).empty());
  EXPECT_TRUE(host_mounts_under(world().rootfs()).empty());
}

URUN_IT_INSTANTIATE(HostPaths);
URUN_IT_INSTANTIATE_ONLY(HostPathsRootOnly, root);
URUN_IT_INSTANTIATE(Devices);
URUN_IT_INSTANTIATE(Propagation);

}  // namespace
}  // namespace urun_it
