// Configs that would write into the namespaces the runtime shares with the host (a hostname, a
// domainname or a sysctl without the container's own UTS, IPC or network namespace, or a sysctl
// no namespace isolates), and procfs tricks (mounts over /proc and its subpaths, a /proc or /sys
// that is a symlink in the rootfs, a bind over /proc/sys that redirects a sysctl write) must be
// refused.
//
// Safety: as root, every config that shares a host namespace runs through `sandboxed()`, which
// runs the runtime inside `unshare -u -i -n -m --propagation private`: a runtime that wrongly
// writes changes only that throw-away namespace, and the test reads the values there before and
// after the run (that is where a bug shows) and the host's afterwards. No such root test uses a
// sysctl that no namespace isolates and that root could write (kernel.core_pattern): only a
// read-only one. As the unprivileged user the runtime cannot change the host's hostname or
// sysctls at all (they need root in the host's namespaces), so it runs without the wrapper.
#include <unistd.h>

#include <map>

#include "harness.hpp"

namespace urun_it {
namespace {

std::string host_hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// "net.ipv4.ip_forward" or "net/ipv4/ip_forward" -> "/proc/sys/net/ipv4/ip_forward".
std::string sysctl_file(std::string key) {
  if (key.find('/') == std::string::npos)
    for (char& c : key)
      if (c == '.') c = '/';
  return "/proc/sys/" + key;
}

class HostIsolation : public IntegrationTest {
 protected:
  void remove_namespace(Bundle& b, const std::string& type) {
    Json out = Json::array();
    for (const auto& ns : b.config["linux"]["namespaces"])
      if (ns.value("type", "") != type) out.push_back(ns);
    b.config["linux"]["namespaces"] = out;
  }

  // What the runtime's namespaces hold: hostname, domainname and the files given.
  struct Probe {
    std::string before, after;
  };

  // `run --bundle B ID` as root inside fresh UTS, IPC, network and mount namespaces (as the
  // user: directly), reading the hostname, the domainname and `files` in the runtime's
  // namespaces before and after the run.
  Result sandboxed_run(Bundle& b, const std::string& id, const std::vector<std::string>& files,
                       Probe& probe) {
    b.sh("echo container-ran");
    b.save();
    std::string read = "{ hostname; cat /proc/sys/kernel/domainname";
    for (const auto& f : files) read += "; cat '" + f + "'";
    read += "; }";
    const std::string before = dir() + "/probe-before", after = dir() + "/probe-after";
    const std::string script = read + " > '" + before + "' 2>&1; r=$0; \"$r\" \"$@\"; rc=$?; " +
                               read + " > '" + after + "' 2>&1; exit $rc";
    std::vector<std::string> argv;
    if (!rootless()) argv = {"unshare", "-u", "-i", "-n", "-m", "--propagation", "private"};
    for (const std::string& a :
         {std::string("sh"), std::string("-c"), script, world().runtime(), std::string("--root"),
          rt().state_root(), std::string("run"), std::string("--bundle"), b.dir, id})
      argv.push_back(a);
    Result r = run_as(identity(), argv, dir() + "/io", RunOptions{.cwd = dir()});
    probe.before = read_file(before);
    probe.after = read_file(after);
    rt().run({"delete", "--force", id});
    return r;
  }

  // The host's values of `files` (and its hostname), to compare after a test.
  static std::map<std::string, std::string> host_values(const std::vector<std::string>& files) {
    std::map<std::string, std::string> out{{"hostname", host_hostname()}};
    for (const auto& f : files) out[f] = read_file(f);
    return out;
  }

  // The one-line failure contract, the line naming every word of `what`.
  void expect_failure_naming(const Result& r, const std::vector<std::string>& what) {
    expect_clean_failure(r, what.front());
    auto lines = r.err_lines();
    if (is_runc() || lines.empty()) return;
    for (const auto& w : what)
      EXPECT_NE(lines[0].find(w), std::string::npos) << "the error should name `" << w << "`\n"
                                                     << r.describe();
  }

  // A config that must be refused: the runtime fails with one line naming every word of `what`,
  // the container never runs, nothing changed in the runtime's namespaces or on the host.
  void expect_refused(Bundle& b, const std::vector<std::string>& files,
                      const std::vector<std::string>& what) {
    const auto host_before = host_values(files);
    Probe probe;
    Result r = sandboxed_run(b, "refused", files, probe);
    expect_failure_naming(r, what);
    EXPECT_EQ(r.out.find("container-ran"), std::string::npos) << r.describe();
    EXPECT_FALSE(probe.before.empty()) << "the probe did not run";
    EXPECT_EQ(probe.after, probe.before) << "the runtime changed its own namespaces' values";
    EXPECT_EQ(host_values(files), host_before) << "the host changed";
  }
};

TEST_P(HostIsolation, HostnameNeedsUtsNamespace) {
  Bundle b = make_bundle();
  remove_namespace(b, "uts");
  b.config["hostname"] = "urun-escaped";
  expect_refused(b, {}, {"hostname", "UTS"});
}

TEST_P(HostIsolation, DomainnameNeedsUtsNamespace) {
  Bundle b = make_bundle();
  remove_namespace(b, "uts");
  b.config.erase("hostname");  // `urun spec` sets one
  b.config["domainname"] = "escaped.example";
  expect_refused(b, {}, {"domainname", "UTS"});
}

TEST_P(HostIsolation, UtsSysctlsNeedUtsNamespace) {
  for (const char* key : {"kernel.hostname", "kernel.domainname"}) {
    SCOPED_TRACE(key);
    Bundle b = make_bundle(BundleOptions{.name = std::string("b-") + key});
    remove_namespace(b, "uts");
    b.config.erase("hostname");  // `urun spec` sets one
    b.config["linux"]["sysctl"] = {{key, "urun-escaped"}};
    expect_refused(b, {}, {key, "UTS"});
  }
}

TEST_P(HostIsolation, IpcSysctlsNeedIpcNamespace) {
  const std::pair<const char*, const char*> cases[] = {{"fs.mqueue.queues_max", "123"},
                                                       {"kernel.msgmax", "4321"},
                                                       {"kernel.shmmni", "1234"},
                                                       {"kernel.sem", "100 1000 10 100"}};
  for (const auto& [key, value] : cases) {
    SCOPED_TRACE(key);
    Bundle b = make_bundle(BundleOptions{.name = std::string("b-") + key});
    remove_namespace(b, "ipc");
    b.config["linux"]["sysctl"] = {{key, value}};
    expect_refused(b, {sysctl_file(key)}, {key, "IPC"});
  }
}

TEST_P(HostIsolation, NetSysctlsNeedNetworkNamespace) {
  // The second is the same sysctl in its slash form, which must be classified all the same.
  for (const char* key : {"net.ipv4.ping_group_range", "net/ipv4/ping_group_range"}) {
    SCOPED_TRACE(key);
    Bundle b = make_bundle(BundleOptions{.name = key[3] == '.' ? "dots" : "slashes"});
    remove_namespace(b, "network");
    b.config["linux"]["sysctl"] = {{key, "0 0"}};
    expect_refused(b, {sysctl_file(key)}, {key, "network"});
  }
}

TEST_P(HostIsolation, SysctlNoNamespaceIsolatesIsRefused) {
  // As root only a read-only one (see the top of the file); the user may try any.
  const std::string key = rootless() ? "kernel.core_pattern" : "kernel.osrelease";
  Bundle b = make_bundle();
  b.config["linux"]["sysctl"] = {{key, "urun-escaped"}};
  expect_refused(b, {sysctl_file(key)}, {key, "not isolated"});
}

TEST_P(HostIsolation, SysctlContradictingHostnameIsRefused) {
  // The container has its own UTS namespace here: nothing reaches the host either way.
  Bundle b = make_bundle();
  b.config["hostname"] = "one";
  b.config["linux"]["sysctl"] = {{"kernel.hostname", "two"}};
  b.sh("hostname");
  b.save();
  Result r = run_container(b, "contra");
  rt().run({"delete", "--force", "contra"});
  expect_failure_naming(r, {"kernel.hostname", "hostname `one`"});
  EXPECT_EQ(r.out, "") << r.describe();

  b.config.erase("hostname");
  b.config["domainname"] = "one.example";
  b.config["linux"]["sysctl"] = {{"kernel.domainname", "two.example"}};
  b.save();
  r = run_container(b, "contra2");
  rt().run({"delete", "--force", "contra2"});
  expect_failure_naming(r, {"kernel.domainname", "domainname `one.example`"});
}

TEST_P(HostIsolation, NamespacedSysctlsStillWork) {
  Bundle b = make_bundle();
  b.add_namespace("network");
  b.add_namespace("ipc");
  b.config["domainname"] = "same.example";
  b.config["linux"]["sysctl"] = {{"fs/mqueue/queues_max", "123"},
                                 {"net.ipv4.ping_group_range", "0 0"}};
  // The kernel lets only the host's root write the UTS sysctls (no user namespace's root).
  if (!rootless()) b.config["linux"]["sysctl"]["kernel.domainname"] = "same.example";
  b.sh(
      "cat /proc/sys/kernel/domainname /proc/sys/fs/mqueue/queues_max "
      "/proc/sys/net/ipv4/ping_group_range");
  b.save();
  Result r = run_container(b, "fine");
  rt().run({"delete", "--force", "fine"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "same.example\n123\n0\t0\n");
}

// ---- procfs ---------------------------------------------------------------------------------

TEST_P(HostIsolation, BindOverProcSysCannotRedirectASysctl) {
  // A volume bound over /proc/sys/net after the proc mount: a sysctl written by path would land
  // in the host's file.
  const std::string fake = make_host_dir("fake-net");
  host_sh("mkdir -p '" + fake + "/ipv4' && echo 0 > '" + fake + "/ipv4/ip_forward' && chown -R " +
          std::to_string(identity().uid) + " '" + fake + "'");
  Bundle b = make_bundle();
  b.add_namespace("network");
  b.add_mount({{"destination", "/proc/sys/net"},
               {"type", "bind"},
               {"source", fake},
               {"options", {"rbind", "rw"}}});
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "redirect");
  rt().run({"delete", "--force", "redirect"});
  expect_failure_naming(r, {"/proc/sys/net", "inside /proc"});
  EXPECT_EQ(read_file(fake + "/ipv4/ip_forward"), "0\n") << "the sysctl was written to the volume";
}

TEST_P(HostIsolation, SysctlWithoutProcfsIsRefused) {
  // No proc mount: the rootfs's own /proc directory, with a file where the sysctl would be.
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  host_sh("mkdir -p '" + b.rootfs + "/proc/sys/net/ipv4' && echo 0 > '" + b.rootfs +
          "/proc/sys/net/ipv4/ip_forward' && chown -R --reference='" + b.rootfs + "' '" + b.rootfs +
          "/proc/sys'");
  Json mounts = Json::array();
  for (const auto& m : b.config["mounts"])
    if (m.value("destination", "") != "/proc") mounts.push_back(m);
  b.config["mounts"] = mounts;
  b.add_namespace("network");
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "noproc");
  rt().run({"delete", "--force", "noproc"});
  expect_failure_naming(r, {"set sysctls", "`/proc` is not the root of a procfs mount"});
  EXPECT_EQ(read_file(b.rootfs + "/proc/sys/net/ipv4/ip_forward"), "0\n")
      << "the sysctl was written into the rootfs";
}

TEST_P(HostIsolation, BindOverProcSysKernelIsRefused) {
  const std::string fake = make_host_dir("fake-kernel");
  Bundle b = make_bundle();
  b.add_mount({{"destination", "/proc/sys/kernel"},
               {"type", "bind"},
               {"source", fake},
               {"options", {"rbind", "ro"}}});
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "overkernel");
  rt().run({"delete", "--force", "overkernel"});
  expect_failure_naming(r, {"/proc/sys/kernel", "inside /proc"});
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos) << r.describe();
}

TEST_P(HostIsolation, TmpfsOnProcIsRefused) {
  Bundle b = make_bundle();
  for (auto& m : b.config["mounts"]) {
    if (m.value("destination", "") == "/proc") {
      m = {{"destination", "/proc"},
           {"type", "tmpfs"},
           {"source", "tmpfs"},
           {"options", Json::array()}};
    }
  }
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "tmpproc");
  rt().run({"delete", "--force", "tmpproc"});
  expect_failure_naming(r, {"/proc", "procfs"});
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos) << r.describe();
}

TEST_P(HostIsolation, LxcfsStyleBindOverProcFileWorks) {
  const std::string src = make_host_dir("lxcfs");
  host_sh("echo 'fake meminfo' > '" + src + "/meminfo' && chmod 644 '" + src + "/meminfo'");
  Bundle b = make_bundle();
  b.add_mount({{"destination", "/proc/meminfo"},
               {"type", "bind"},
               {"source", src + "/meminfo"},
               {"options", {"bind", "ro"}}});
  b.sh("cat /proc/meminfo");
  b.save();
  Result r = run_container(b, "lxcfs");
  rt().run({"delete", "--force", "lxcfs"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "fake meminfo\n");
}

// The rootfs's /proc or /sys replaced by a symlink to a directory elsewhere in it: the filesystem
// would be mounted at the link's target.
void symlink_in_rootfs(const Bundle& b, const std::string& name) {
  host_sh("cd '" + b.rootfs + "' && rm -rf '" + name + "' && mkdir fake" + name +
          " && ln -s /fake" + name + " '" + name + "' && chown -h --reference=. '" + name +
          "' fake" + name);
}

TEST_P(HostIsolation, ProcSymlinkInRootfsIsRefused) {
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  symlink_in_rootfs(b, "proc");
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "procsym");
  rt().run({"delete", "--force", "procsym"});
  expect_failure_naming(r, {"/proc", "ordinary directory"});
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos) << r.describe();
  EXPECT_TRUE(host_mounts_under(b.rootfs).empty());
}

TEST_P(HostIsolation, SysSymlinkInRootfsIsRefused) {
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  symlink_in_rootfs(b, "sys");
  b.sh("echo container-ran");
  b.save();
  Result r = run_container(b, "syssym");
  rt().run({"delete", "--force", "syssym"});
  expect_failure_naming(r, {"/sys", "ordinary directory"});
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos) << r.describe();
}

URUN_IT_INSTANTIATE(HostIsolation);

}  // namespace
}  // namespace urun_it
