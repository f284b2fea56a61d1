// The pure parts of the CRIU module: how a container is described to CRIU
// (mountinfo -> externals, dump and restore arguments), the RPC wire format,
// version and log parsing.
#include "criu/criu.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.hpp"
#include "criu/describe.hpp"
#include "criu/rpc.hpp"
#include "spec/spec.hpp"

namespace {

using namespace urun::criu;

// A container's mountinfo as urun makes it on a hybrid cgroup host: its own
// tmpfs /dev (a masked file bound from its /dev/null), a cgroup directory bound
// from the host, a device bound from the host's devtmpfs, a volume.
const char* kMountinfo =
    "68 46 254:0 /b/rootfs / rw,relatime - ext4 /dev/vda rw\n"
    "70 68 0:42 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "82 75 0:32 /urun/c1-2b /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
    "76 75 0:38 /urun/c1-2b /sys/fs/cgroup/unified ro,nosuid - cgroup2 cgroup2 rw\n"
    "48 69 0:42 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "90 70 0:5 /fuse /dev/fuse rw,nosuid shared:3 - devtmpfs udev rw,size=1k\n"
    "91 68 254:0 /srv/my\\040data /data rw,relatime - ext4 /dev/vda rw\n";

urun::spec::Spec spec_with_volume() {
  urun::spec::Spec spec;
  spec.mounts.push_back({"/data/", "bind", "/srv/my data", {"rbind", "rw"}, {}, {}});
  spec.mounts.push_back({"/conf", "", "conf.d", {"bind", "ro"}, {}, {}});
  spec.mounts.push_back({"/tmp", "tmpfs", "tmpfs", {"nosuid"}, {}, {}});
  spec.linux.emplace();
  spec.linux->namespaces = {{"network", "/run/netns/n1"}, {"pid", ""}, {"ipc", "/proc/9/ns/ipc"}};
  return spec;
}

bool has_pair(const std::vector<std::string>& args, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == a && args[i + 1] == b) return true;
  return false;
}

TEST(CriuDescribe, ParsesMountinfoWithEscapesAndOptionalFields) {
  auto mounts = parse_mountinfo(kMountinfo);
  ASSERT_EQ(mounts.size(), 7u);
  EXPECT_EQ(mounts[1].mount_point, "/dev");
  EXPECT_EQ(mounts[1].fs_type, "tmpfs");
  EXPECT_EQ(mounts[5].fs_type, "devtmpfs");  // after the optional "shared:3"
  EXPECT_EQ(mounts[6].root, "/srv/my data");
}

TEST(CriuDescribe, HostBackedMountsAreDevicesAndCgroupBinds) {
  auto spec = spec_with_volume();
  Externals ext = host_backed_mounts(spec, parse_mountinfo(kMountinfo));
  // The masked file is bound from the container's own tmpfs: CRIU dumps it itself.
  EXPECT_EQ(ext.devices, (std::map<std::string, std::string>{{"/dev/fuse", "/dev/fuse"}}));
  ASSERT_EQ(ext.cgroups.size(), 2u);
  EXPECT_EQ(ext.cgroups["/sys/fs/cgroup/memory"].hierarchy, "memory");
  EXPECT_EQ(ext.cgroups["/sys/fs/cgroup/memory"].path, "/urun/c1-2b");
  EXPECT_EQ(ext.cgroups["/sys/fs/cgroup/unified"].hierarchy, "unified");
}

TEST(CriuDescribe, DumpNamesBindMountsAndHostBackedMountsByMountPoint) {
  auto spec = spec_with_volume();
  auto args = dump_mount_args(spec, host_backed_mounts(spec, parse_mountinfo(kMountinfo)));
  EXPECT_TRUE(has_pair(args, "--external", "mnt[/data]:/data"));
  EXPECT_TRUE(has_pair(args, "--external", "mnt[/conf]:/conf"));
  EXPECT_TRUE(has_pair(args, "--external", "mnt[/dev/fuse]:/dev/fuse"));
  EXPECT_TRUE(has_pair(args, "--external", "mnt[/sys/fs/cgroup/memory]:/sys/fs/cgroup/memory"));
  EXPECT_EQ(args.size(), 2u * 5);  // the tmpfs is not external
}

TEST(CriuDescribe, RestoreGivesTheNewSourcesAndTheNewCgroup) {
  auto spec = spec_with_volume();
  Externals ext = host_backed_mounts(spec, parse_mountinfo(kMountinfo));
  auto args =
      restore_mount_args(spec, "/bundle", ext, {{"memory", "/sys/fs/cgroup/memory/urun/c2-9a"}});
  EXPECT_TRUE(has_pair(args, "--external", "mnt[/data]:/srv/my data"));
  EXPECT_TRUE(has_pair(args, "--external", "mnt[/conf]:/bundle/conf.d"));
  EXPECT_TRUE(has_pair(args, "--external", "mnt[/dev/fuse]:/dev/fuse"));
  EXPECT_TRUE(
      has_pair(args, "--external", "mnt[/sys/fs/cgroup/memory]:/sys/fs/cgroup/memory/urun/c2-9a"));
  // No new directory for that hierarchy: the recorded one.
  EXPECT_TRUE(has_pair(args, "--external",
                       "mnt[/sys/fs/cgroup/unified]:/sys/fs/cgroup/unified/urun/c1-2b"));
}

TEST(CriuDescribe, NamespacesJoinedByPath) {
  auto spec = spec_with_volume();
  auto joined = joined_namespaces(spec);
  EXPECT_EQ(joined, (std::map<std::string, std::string>{{"ipc", "/proc/9/ns/ipc"},
                                                        {"network", "/run/netns/n1"}}));
  auto args = restore_join_ns_args(spec);
  EXPECT_EQ(args, (std::vector<std::string>{"--join-ns", "ipc:/proc/9/ns/ipc"}));
}

TEST(CriuDescribe, ExternalsRoundTripAndBadFilesAreErrors) {
  auto spec = spec_with_volume();
  Externals ext = host_backed_mounts(spec, parse_mountinfo(kMountinfo));
  Externals back = externals_from_json(externals_to_json(ext), "x.json");
  EXPECT_EQ(back.devices, ext.devices);
  EXPECT_EQ(back.cgroups["/sys/fs/cgroup/memory"].path, "/urun/c1-2b");
  EXPECT_THROW(externals_from_json("{\"devices\": 3}", "x.json"), urun::Error);
  EXPECT_THROW(externals_from_json("not json", "x.json"), urun::Error);
}

TEST(Criu, VersionAndModes) {
  EXPECT_EQ(parse_version("Version: 4.2.1\n"), 40201);
  EXPECT_EQ(parse_version("Version: 3.17\nGitID: v3.17\n"), 31700);
  EXPECT_EQ(parse_version("garbage"), 0);
  EXPECT_GE(parse_version("Version: 3.11"), kMinVersion);
  EXPECT_EQ(manage_cgroups_arg("strict"), "--manage-cgroups=strict");
  EXPECT_THROW(manage_cgroups_arg("props"), urun::Error);
}

TEST(Criu, LogErrorIsTheFirstRealError) {
  const char* log =
      "(00.1) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self: EPERM\n"
      "(00.2) some info\n"
      "(00.3) Error (criu/files-reg.c:1790): Can't lookup mount=24 for fd=0 path=/dev/null\n"
      "(00.4) Error (criu/cr-dump.c:2111): Dumping FAILED.\n";
  EXPECT_EQ(log_error(log), "Can't lookup mount=24 for fd=0 path=/dev/null");
  EXPECT_EQ(log_error("(00.1) all fine\n"), "");
}

TEST(CriuRpc, RequestCarriesEveryOptionWord) {
  std::string req =
      build_request("restore",
                    {"--images-dir", "/img", "--root", "/r", "--restore-detached",
                     "--restore-sibling", "--pidfile", "/p", "--manage-cgroups=soft",
                     "--cgroup-root", "/urun/c1", "--external", "mnt[/data]:/srv", "--inherit-fd",
                     "fd[5]:extRootNetNS", "--join-ns", "ipc:/x", "--tcp-established"},
                    7, 8, "restore.log");
  // type RESTORE (field 1 = 2), then opts (field 2, length-delimited).
  ASSERT_GE(req.size(), 4u);
  EXPECT_EQ(req[0], 0x08);
  EXPECT_EQ(req[1], 0x02);
  EXPECT_EQ(req[2], 0x12);
  for (const char* text :
       {"/r", "/urun/c1", "mnt[/data]:/srv", "extRootNetNS", "ipc", "/x", "restore.log"})
    EXPECT_NE(req.find(text), std::string::npos) << text;
  EXPECT_EQ(req.find("/img"), std::string::npos) << "the images go by fd";
  EXPECT_EQ(req.find("/p"), std::string::npos) << "the pid comes in the response";
  EXPECT_THROW(build_request("dump", {"--no-such-option"}, 1, 2, "l"), urun::Error);
  EXPECT_THROW(build_request("dump", {"--root"}, 1, 2, "l"), urun::Error);
}

TEST(CriuRpc, ParsesResponses) {
  Message restore_resp;
  restore_resp.varint(1, 2);
  restore_resp.boolean(2, true);
  Message pid;
  pid.varint(1, 4242);
  restore_resp.message(4, pid);
  Response r = parse_response(restore_resp.bytes());
  EXPECT_EQ(r.type, 2);
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.restored_pid, 4242);

  Message notify;
  notify.varint(1, 6);
  notify.boolean(2, true);
  Message script;
  script.string(1, "orphan-pts-master");
  notify.message(5, script);
  notify.varint(7, 0);
  notify.string(99, "unknown field, skipped");
  r = parse_response(notify.bytes());
  EXPECT_EQ(r.type, 6);
  EXPECT_EQ(r.notify_script, "orphan-pts-master");

  Message failed;
  failed.varint(1, 1);
  failed.boolean(2, false);
  failed.varint(7, 13);
  failed.string(9, "Permission denied");
  r = parse_response(failed.bytes());
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.cr_errno, 13);
  EXPECT_EQ(r.cr_errmsg, "Permission denied");
  EXPECT_THROW(parse_response(std::string("\x0a\x10", 2)), urun::Error);  // truncated
}

}  // namespace
