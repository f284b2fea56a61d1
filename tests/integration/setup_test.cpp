// Container set-up features checked from inside the container.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "harness.hpp"

namespace urun_it {
namespace {

class Setup : public IntegrationTest {
 protected:
  // Runs `script` under sh in a fresh container of bundle `b` and returns the result.
  Result run_sh(Bundle& b, const std::string& script) {
    b.sh(script);
    b.save();
    std::string id = "s" + std::to_string(++n_);
    Result r = run_container(b, id);
    rt().run({"delete", "--force", id});
    return r;
  }
  // Host identity the container's root maps to.
  std::string host_root_uid() const { return std::to_string(identity().uid); }

 private:
  int n_ = 0;
};

TEST_P(Setup, ProcessUserRootAndIdMapping) {
  Bundle b = make_bundle();
  Result r = run_sh(b, "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_GE(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "0");
  EXPECT_EQ(lines[1], "0");
  if (rootless()) {
    // The caller is container root (its subordinate ids follow from 1: Userns tests).
    std::istringstream uid_map(lines[2]);
    std::string inside, outside, count;
    uid_map >> inside >> outside >> count;
    EXPECT_EQ(inside, "0");
    EXPECT_EQ(outside, host_root_uid());
    EXPECT_EQ(count, "1");
  } else {
    EXPECT_NE(lines[2].find("4294967295"), std::string::npos) << "root mode shares the host userns";
  }
}

TEST_P(Setup, ProcessUserUidGidAdditionalGids) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  Result r = run_sh(b, "grep -E '^(Uid|Gid|Groups):' /proc/self/status; id -un");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(status_field(r.out, "Uid"), "1000\t1000\t1000\t1000") << r.out;
  EXPECT_EQ(status_field(r.out, "Gid"), "1000\t1000\t1000\t1000") << r.out;
  std::string groups = status_field(r.out, "Groups");
  if (rootless()) {
    // Runtimes that do not call setgroups when rootless (runc) leave the caller's own group,
    // which is container gid 0.
    EXPECT_TRUE(groups.empty() || groups == "0") << r.out;
  } else {
    EXPECT_EQ(groups, "") << r.out;
  }
  EXPECT_NE(r.out.find("\nuser\n"), std::string::npos) << "uid 1000 is `user` in /etc/passwd";

  b.config["process"]["user"]["additionalGids"] = {10, 20};
  r = run_sh(b, "grep -E '^(Uid|Gid|Groups):' /proc/self/status");
  if (r.exit_code != 0 && is_runc() && rootless() &&
      r.err.find("additional groups") != std::string::npos) {
    GTEST_SKIP() << "runc refuses additionalGids in any rootless container";
  }
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(status_field(r.out, "Uid"), "1000\t1000\t1000\t1000") << r.out;
  EXPECT_EQ(status_field(r.out, "Groups"), "10 20") << r.out;
}

TEST_P(Setup, ProcessUserWithoutAdditionalGidsDropsGroups) {
  Bundle b = make_bundle();
  b.config["process"]["user"] = {{"uid", 0}, {"gid", 0}};
  Result r = run_sh(b, "grep -E '^Groups:' /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::string groups = status_field(r.out, "Groups");
  // The host's supplementary groups must not leak in. Root: reset to none. Rootless with a single
  // mapping setgroups is denied: the user's own group (container gid 0) or, for unmapped groups,
  // the overflow gid may remain.
  if (rootless()) {
    EXPECT_TRUE(groups.empty() || groups == "0" || groups == "65534") << groups;
  } else {
    EXPECT_EQ(groups, "");
  }
}

TEST_P(Setup, Umask) {
  Bundle b = make_bundle();
  b.config["process"]["user"]["umask"] = 63;  // 0077
  Result r = run_sh(b, "umask");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), "0077");
  b.config["process"]["user"]["umask"] = 18;  // 0022
  r = run_sh(b, "umask");
  EXPECT_EQ(trim(r.out), "0022");
}

TEST_P(Setup, CwdAndEnv) {
  Bundle b = make_bundle();
  b.config["process"]["cwd"] = "/opt/ro";
  b.add_env("FOO=bar baz");
  b.add_env("EMPTY=");
  Result r = run_sh(b, "pwd; echo \"$FOO\"; echo \"[${EMPTY-unset}]\"; cat data");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "/opt/ro\nbar baz\n[]\ndata\n");
}

TEST_P(Setup, HostnameAndDomainname) {
  Bundle b = make_bundle();
  b.config["hostname"] = "box1";
  b.config["domainname"] = "example.org";
  Result r = run_sh(b, "hostname; cat /proc/sys/kernel/domainname");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "box1");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_NE(std::string(host), "box1") << "the host's hostname changed";
  if (is_runc() && lines[1] != "example.org") {
    GTEST_SKIP() << "runc " << world().runtime_version() << " ignores `domainname`";
  }
  EXPECT_EQ(lines[1], "example.org");
}

TEST_P(Setup, Rlimits) {
  Bundle b = make_bundle();
  b.config["process"]["rlimits"] =
      Json::array({{{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 1024}}});
  Result r = run_sh(b, "ulimit -n; grep 'Max open files' /proc/self/limits");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "1024");
  EXPECT_NE(lines[1].find("1024                 1024"), std::string::npos) << lines[1];

  b.config["process"]["rlimits"] =
      Json::array({{{"type", "RLIMIT_NOFILE"}, {"soft", 256}, {"hard", 512}},
                   {{"type", "RLIMIT_NPROC"}, {"soft", 300}, {"hard", 400}},
                   {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 0}}});
  r = run_sh(b, "ulimit -n; grep -E 'Max (open files|processes|core)' /proc/self/limits");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "256");
  EXPECT_NE(r.out.find("Max open files            256                  512"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Max processes             300                  400"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Max core file size        0                    0"), std::string::npos)
      << r.out;
}

TEST_P(Setup, ReducedCapabilities) {
  Bundle b = make_bundle();
  // CAP_CHOWN = 0, CAP_KILL = 5.
  Json caps = {"CAP_CHOWN", "CAP_KILL"};
  b.config["process"]["capabilities"] = {{"bounding", caps},
                                         {"effective", caps},
                                         {"permitted", caps},
                                         {"inheritable", Json::array()},
                                         {"ambient", Json::array()}};
  Result r = run_sh(b, "grep -E '^Cap' /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(status_field(r.out, "CapBnd"), "0000000000000021") << r.out;
  EXPECT_EQ(status_field(r.out, "CapEff"), "0000000000000021") << r.out;
  EXPECT_EQ(status_field(r.out, "CapPrm"), "0000000000000021") << r.out;
  EXPECT_EQ(status_field(r.out, "CapAmb"), "0000000000000000") << r.out;
  EXPECT_EQ(status_field(r.out, "CapInh"), "0000000000000000") << r.out;
}

TEST_P(Setup, AmbientCapabilitiesForNonRootUser) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  Json caps = {"CAP_KILL"};
  b.config["process"]["capabilities"] = {{"bounding", {"CAP_KILL", "CAP_NET_BIND_SERVICE"}},
                                         {"effective", caps},
                                         {"permitted", caps},
                                         {"inheritable", caps},
                                         {"ambient", caps}};
  Result r = run_sh(b, "grep -E '^Cap' /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  // CAP_KILL = 5, CAP_NET_BIND_SERVICE = 10.
  EXPECT_EQ(status_field(r.out, "CapBnd"), "0000000000000420") << r.out;
  EXPECT_EQ(status_field(r.out, "CapAmb"), "0000000000000020") << r.out;
  EXPECT_EQ(status_field(r.out, "CapEff"), "0000000000000020") << r.out;
}

TEST_P(Setup, NoNewPrivileges) {
  Bundle b = make_bundle();
  b.config["process"]["noNewPrivileges"] = true;
  Result r = run_sh(b, "grep NoNewPrivs /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(status_field(r.out, "NoNewPrivs"), "1");
  b.config["process"]["noNewPrivileges"] = false;
  r = run_sh(b, "grep NoNewPrivs /proc/self/status");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(status_field(r.out, "NoNewPrivs"), "0");
}

TEST_P(Setup, MaskedPaths) {
  Bundle b = make_bundle();
  // A non-empty /proc file this kernel has (/proc/kcore is not always built in).
  std::string proc_file = "/proc/kcore";
  for (const char* f : {"/proc/kcore", "/proc/timer_list", "/proc/sched_debug"}) {
    if (path_exists(f)) {
      proc_file = f;
      break;
    }
  }
  b.config["linux"]["maskedPaths"] = {proc_file, "/opt/masked", "/does/not/exist"};
  Result r = run_sh(b, "echo kcore=$(wc -c < " + proc_file +
                           "); echo ls=$(ls -A /opt/masked | wc -l); "
                           "cat /opt/masked/secret 2>/dev/null || echo secret-hidden");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "kcore=0\nls=0\nsecret-hidden\n");
}

TEST_P(Setup, ReadonlyPaths) {
  Bundle b = make_bundle();
  b.add_mount({{"destination", "/mnt/a"},
               {"type", "tmpfs"},
               {"source", "tmpfs"},
               {"options", {"mode=1777"}}});
  b.config["linux"]["readonlyPaths"] = {"/mnt/a", "/proc/sys", "/does/not/exist"};
  Result r =
      run_sh(b,
             "touch /mnt/a/x 2>/dev/null && echo wrote || echo refused; "
             "grep ' /mnt/a ' /proc/mounts | grep -c '[ ,]ro[ ,]'; "
             "(echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo wrote || echo refused");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "refused\n1\nrefused\n");
}

TEST_P(Setup, RootReadonly) {
  Bundle b = make_bundle();  // shared rootfs, root.readonly true
  Result r = run_sh(b,
                    "touch /newfile 2>/dev/null && echo wrote || echo refused; "
                    "grep -c '^[^ ]* / [^ ]* ro[ ,]' /proc/mounts");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "refused\n1\n");
  EXPECT_FALSE(path_exists(b.rootfs + "/newfile"));
}

TEST_P(Setup, RootWritable) {
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  Result r = run_sh(b, "echo hello > /newfile && echo wrote");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "wrote\n");
  EXPECT_EQ(read_file(b.rootfs + "/newfile"), "hello\n");
}

TEST_P(Setup, TmpfsMountWithSize) {
  Bundle b = make_bundle();
  b.add_mount({{"destination", "/mnt/a"},
               {"type", "tmpfs"},
               {"source", "tmpfs"},
               {"options", {"size=1m", "mode=755", "nosuid", "nodev"}}});
  Result r = run_sh(b, "grep ' /mnt/a ' /proc/mounts; echo x > /mnt/a/f && cat /mnt/a/f");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_NE(lines[0].find("tmpfs /mnt/a tmpfs"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("size=1024k"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("nosuid"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("nodev"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "x");
}

TEST_P(Setup, BindMountsReadWriteAndReadOnly) {
  std::string rw = make_host_dir("host-rw");
  std::string ro = make_host_dir("host-ro");
  write_file(ro + "/in.txt", "from host\n");
  Bundle b = make_bundle();
  b.add_mount(
      {{"destination", "/mnt/b"}, {"type", "bind"}, {"source", rw}, {"options", {"rbind", "rw"}}});
  b.add_mount(
      {{"destination", "/mnt/c"}, {"type", "bind"}, {"source", ro}, {"options", {"rbind", "ro"}}});
  Result r = run_sh(b,
                    "echo from container > /mnt/b/out.txt && echo wrote-rw; "
                    "cat /mnt/c/in.txt; "
                    "touch /mnt/c/x 2>/dev/null && echo wrote-ro || echo refused-ro");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "wrote-rw\nfrom host\nrefused-ro\n");
  EXPECT_EQ(read_file(rw + "/out.txt"), "from container\n");
  EXPECT_FALSE(path_exists(ro + "/x"));
  // Nothing of the container's mounts shows on the host.
  EXPECT_TRUE(host_mounts_under(dir()).empty());
}

TEST_P(Setup, MountDestinationIsCreated) {
  std::string src = make_host_dir("host-src");
  write_file(src + "/f", "deep\n");
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  b.add_mount({{"destination", "/new/deep/dir"},
               {"type", "bind"},
               {"source", src},
               {"options", {"bind", "ro"}}});
  Result r = run_sh(b, "cat /new/deep/dir/f");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "deep\n");
}

TEST_P(Setup, PidUtsIpcNamespaces) {
  Bundle b = make_bundle();
  b.config["hostname"] = "nsbox";
  Result r = run_sh(b, "echo $$; hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "1");
  EXPECT_EQ(lines[1], "nsbox");
  char buf[256] = {};
  ASSERT_GT(::readlink("/proc/self/ns/ipc", buf, sizeof buf - 1), 0);
  EXPECT_NE(lines[2], std::string(buf));
  char pbuf[256] = {};
  ASSERT_GT(::readlink("/proc/self/ns/pid", pbuf, sizeof pbuf - 1), 0);
  EXPECT_NE(lines[3], std::string(pbuf));
}

TEST_P(Setup, NetworkNamespaceHasOnlyLoopback) {
  Bundle b = make_bundle();
  b.add_namespace("network");
  Result r = run_sh(b, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "lo\n");
}

TEST_P(Setup, Sysctl) {
  Bundle b = make_bundle();
  b.add_namespace("network");
  b.add_namespace("ipc");
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "123456789"}};
  Result r = run_sh(b, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "1\n123456789\n");
  EXPECT_NE(trim(read_file("/proc/sys/kernel/shmmax")), "123456789") << "host sysctl changed";
}

TEST_P(Setup, DefaultDevices) {
  Bundle b = make_bundle();
  Result r = run_sh(b,
                    "echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; "
                    "head -c 4 /dev/urandom | wc -c; readlink /dev/fd; readlink /dev/stdin; "
                    "for d in null zero full random urandom tty; do test -c /dev/$d || echo no-$d; "
                    "done; ls /dev/pts >/dev/null && echo pts-ok");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "null-ok\n4\n4\n/proc/self/fd\n/proc/self/fd/0\npts-ok\n");
}

TEST_P(Setup, ExtraDevices) {
  Bundle b = make_bundle();
  // A host device outside the default set: created by mknod as root, bind-mounted from the host
  // when rootless.
  Json devices = Json::array({{{"path", "/dev/kmsg"},
                               {"type", "c"},
                               {"major", 1},
                               {"minor", 11},
                               {"fileMode", 0644},
                               {"uid", 0},
                               {"gid", 0}}});
  std::string script = "stat -c '%t,%T' /dev/kmsg";
  std::string want = "1,b\n";
  if (!rootless()) {
    // A device at a path the host does not have: only mknod can make it.
    devices.push_back({{"path", "/dev/mynull"},
                       {"type", "c"},
                       {"major", 1},
                       {"minor", 3},
                       {"fileMode", 0666},
                       {"uid", 0},
                       {"gid", 0}});
    script += "; stat -c '%t,%T %a' /dev/mynull; echo x > /dev/mynull && echo ok";
    want += "1,3 666\nok\n";
    b.config["linux"]["resources"]["devices"] = Json::array({{{"allow", true}, {"access", "rwm"}}});
  }
  b.config["linux"]["devices"] = devices;
  Result r = run_sh(b, script);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, want);
}

TEST_P(Setup, OomScoreAdj) {
  Bundle b = make_bundle();
  int host_adj = std::stoi(trim(read_file("/proc/self/oom_score_adj")));
  int want = std::min(host_adj + 100, 1000);
  b.config["process"]["oomScoreAdj"] = want;
  Result r = run_sh(b, "cat /proc/self/oom_score_adj");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(trim(r.out), std::to_string(want));
}

URUN_IT_INSTANTIATE(Setup);

}  // namespace
}  // namespace urun_it
