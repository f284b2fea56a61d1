// Command-line options (--preserve-fds, --no-pivot, --no-new-keyring, --log/--log-format/
// --log-level/--debug, --pid-file with state, the run.oci.hooks.stdout/stderr annotations) and
// namespace features (joining by path, time and cgroup namespaces, rootfsPropagation).
#include <linux/keyctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace urun_it {
namespace {

// Field `n` (0-based, whitespace separated) of each line of mountinfo text whose mount point is
// `mount_point`.
std::vector<std::vector<std::string>> mountinfo_entries(const std::string& text,
                                                        const std::string& mount_point) {
  std::vector<std::vector<std::string>> out;
  for (const auto& line : split_lines(text)) {
    std::istringstream is(line);
    std::vector<std::string> fields;
    std::string f;
    while (is >> f) fields.push_back(f);
    if (fields.size() > 5 && fields[4] == mount_point) out.push_back(fields);
  }
  return out;
}

// The optional fields of a mountinfo entry (between the mount options and "-").
std::vector<std::string> optional_fields(const std::vector<std::string>& entry) {
  std::vector<std::string> out;
  for (size_t i = 6; i < entry.size() && entry[i] != "-"; ++i) out.push_back(entry[i]);
  return out;
}

bool any_starts_with(const std::vector<std::string>& v, const std::string& prefix) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

std::string readlink_str(const std::string& path) {
  char buf[512] = {};
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "<readlink " + path + " failed>";
}

void chown_to(const std::string& path, const Identity& id) {
  if (::chown(path.c_str(), id.uid, id.gid) != 0) throw std::runtime_error("chown " + path);
}

// ---------------------------------------------------------------------------------------------
// Options

class Options : public IntegrationTest {
 protected:
  // Runs `sh -c SCRIPT sh <runtime> --root <state> ARGS...` in the mode's identity, so the script
  // can set up fds (or anything else) before exec'ing the runtime with "$@".
  Result run_via_shell(const std::string& script, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/bin/sh",         "-c",     script + "; exec \"$@\"", "sh",
                                     world().runtime(), "--root", rt().state_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_as(identity(), argv, dir() + "/io", RunOptions{.cwd = dir()});
  }
  // A file in the test dir readable by the mode's identity.
  std::string make_file(const std::string& name, const std::string& content) {
    std::string p = dir() + "/" + name;
    write_file(p, content, 0644);
    chown_to(p, identity());
    return p;
  }
};

TEST_P(Options, PreserveFds) {
  std::string a = make_file("preserved-a", "content-a\n");
  std::string b_file = make_file("preserved-b", "content-b\n");
  std::string c = make_file("not-preserved-c", "content-c\n");
  std::string leak = make_file("leak-marker", "leak\n");
  Bundle b = make_bundle();
  // The shell's own fds: 3 and 4 must be the caller's, 5 and 9 must not exist; no fd may name the
  // caller's other files.
  b.sh(
      "for f in 3 4 5 9; do [ -e /proc/$$/fd/$f ] && echo has-$f; done; "
      "[ -e /proc/$$/fd/3 ] && cat <&3; [ -e /proc/$$/fd/4 ] && cat <&4; "
      "ls -l /proc/$$/fd/");
  b.save();
  std::string opens = "exec 3<'" + a + "' 4<'" + b_file + "' 5<'" + c + "' 9<'" + leak + "'";

  Result r = run_via_shell(opens, {"run", "--preserve-fds", "2", "--bundle", b.dir, "pfd"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("has-3\nhas-4\ncontent-a\ncontent-b\n"), std::string::npos)
      << "fds 3 and 4 must reach the container, 5 and 9 not\n"
      << r.out;
  EXPECT_EQ(r.out.find("has-5"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("has-9"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("not-preserved-c"), std::string::npos) << "fd 5 leaked\n" << r.out;
  EXPECT_EQ(r.out.find("leak-marker"), std::string::npos) << "a caller's fd leaked\n" << r.out;

  // Without --preserve-fds nothing beyond stdio is passed.
  r = run_via_shell(opens, {"run", "--bundle", b.dir, "nopfd"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  for (const char* f :
       {"has-3", "has-4", "has-5", "has-9", "content-", "preserved-", "leak-marker"}) {
    EXPECT_EQ(r.out.find(f), std::string::npos) << f << " without --preserve-fds\n" << r.out;
  }
}

TEST_P(Options, NoPivot) {
  Bundle b = make_bundle();
  std::string rootfs_name = b.rootfs.substr(b.rootfs.rfind('/'));
  // The test dir exists only on the host; /opt/ro/data only in the rootfs.
  b.sh("cat /opt/ro/data; [ -e '" + dir() + "' ] && echo host-visible; cat /proc/self/mountinfo");
  b.save();
  auto check = [&](const Result& r, const std::string& what) {
    SCOPED_TRACE(what);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out.rfind("data\n", 0), 0u) << r.out;
    EXPECT_EQ(r.out.find("host-visible"), std::string::npos) << r.out;
    auto roots = mountinfo_entries(r.out, "/");
    ASSERT_EQ(roots.size(), 1u) << "want exactly one mount on / inside\n" << r.out;
    // Field 3 is the mount's root within its filesystem: the rootfs directory.
    const std::string& root = roots[0][3];
    EXPECT_TRUE(root.size() >= rootfs_name.size() &&
                root.compare(root.size() - rootfs_name.size(), rootfs_name.size(), rootfs_name) ==
                    0)
        << "the root mount should be the rootfs " << b.rootfs << ", is " << root;
  };

  check(run_container(b, "pivot"), "default (pivot_root)");
  check(rt().run({"run", "--no-pivot", "--bundle", b.dir, "nopivot-run"}), "run --no-pivot");
  if (is_runc()) {
    GTEST_SKIP() << "runc has --no-pivot only as a create/run option, not a global one";
  }
  check(rt().run({"--no-pivot", "run", "--bundle", b.dir, "nopivot-global"}), "global --no-pivot");
}

TEST_P(Options, NoNewKeyring) {
  if (!path_exists("/proc/keys")) GTEST_SKIP() << "the kernel has no /proc/keys (CONFIG_KEYS)";
  // Give this test process (and so every runtime call it makes) a session keyring of its own,
  // visible in /proc/keys only to processes that possess it, owned by the mode's identity (a
  // key owned by an unmapped uid is hidden in a user namespace's /proc/keys).
  std::string name = "urun-it-ses-" + std::to_string(::getpid());
  long serial = ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str(), 0, 0, 0);
  if (serial < 0) GTEST_SKIP() << "cannot join a new session keyring: " << std::strerror(errno);
  ASSERT_EQ(::syscall(SYS_keyctl, KEYCTL_SETPERM, serial, 0x3f000000, 0, 0), 0)
      << std::strerror(errno);
  ASSERT_EQ(::syscall(SYS_keyctl, KEYCTL_CHOWN, serial, identity().uid, -1, 0), 0)
      << std::strerror(errno);
  // The caller, in the mode's identity, sees it.
  Result host = run_as(identity(), {"cat", "/proc/keys"}, dir() + "/io", {.cwd = dir()});
  ASSERT_EQ(host.exit_code, 0) << host.describe();
  ASSERT_NE(host.out.find(name), std::string::npos)
      << "the caller does not see its own session keyring\n"
      << host.out;

  Bundle b = make_bundle();
  Json masked = Json::array();
  for (const auto& p : b.config["linux"].value("maskedPaths", Json::array())) {
    if (p != "/proc/keys") masked.push_back(p);
  }
  b.config["linux"]["maskedPaths"] = masked;
  b.set_args({"cat", "/proc/keys"});
  b.save();

  Result r = run_container(b, "newkeyring");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.find(name), std::string::npos)
      << "without --no-new-keyring the container must not have the caller's session keyring\n"
      << r.out;

  r = rt().run({"run", "--no-new-keyring", "--bundle", b.dir, "samekeyring"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find(name), std::string::npos)
      << "with --no-new-keyring the container keeps the caller's session keyring\n"
      << r.out;
}

TEST_P(Options, LogFileJson) {
  Bundle b = make_bundle();
  b.set_args({"/nonexistent"});
  b.save();
  std::string log = dir() + "/log.json";
  Result r = rt().run({"--log", log, "--log-format", "json", "create", "--bundle", b.dir, "logj"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(state_entries().empty()) << joined(state_entries());
  std::vector<Json> objects;
  for (const auto& line : split_lines(read_file(log))) {
    if (trim(line).empty()) continue;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "log line is not JSON: " << line;
      continue;
    }
    // runc logs rootless cgroup warnings too.
    if (is_runc() && j.value("level", "") == "warning") continue;
    objects.push_back(j);
  }
  ASSERT_EQ(objects.size(), 1u) << "want exactly one JSON object\n" << read_file(log);
  const Json& j = objects[0];
  ASSERT_TRUE(j.is_object()) << j.dump();
  EXPECT_EQ(j.value("level", ""), "error") << j.dump();
  EXPECT_TRUE(j.contains("time") && j["time"].is_string() && !j["time"].get<std::string>().empty())
      << j.dump();
  ASSERT_TRUE(j.contains("msg") && j["msg"].is_string()) << j.dump();
  std::string msg = j["msg"].get<std::string>();
  EXPECT_NE(msg.find("/nonexistent"), std::string::npos) << msg;
  if (!is_runc()) {
    EXPECT_NE(msg.find("logj"), std::string::npos) << "name the container: " << msg;
  }
}

TEST_P(Options, LogFileText) {
  Bundle b = make_bundle();
  b.set_args({"/nonexistent"});
  b.save();
  std::string log = dir() + "/log.txt";
  Result r = rt().run({"--log", log, "create", "--bundle", b.dir, "logt"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  std::vector<std::string> lines;
  for (const auto& l : split_lines(read_file(log))) {
    if (trim(l).empty()) continue;
    if (is_runc() && l.find("level=warning") != std::string::npos) continue;
    lines.push_back(l);
  }
  ASSERT_EQ(lines.size(), 1u) << "want exactly one line\n" << read_file(log);
  EXPECT_NE(lines[0].find("/nonexistent"), std::string::npos) << lines[0];
  EXPECT_FALSE(Json::accept(lines[0])) << "the text format is not JSON: " << lines[0];
}

TEST_P(Options, DebugOutput) {
  Bundle b = make_bundle();
  b.sh("echo hello");
  b.save();
  Result plain = run_container(b, "nodebug");
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_EQ(plain.err.find("debug"), std::string::npos) << plain.describe();

  Result r = rt().run({"--debug", "run", "--bundle", b.dir, "debug"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "hello\n") << "debug output must not go to the container's stdout";
  size_t debug_lines = 0;
  for (const auto& l : r.err_lines()) {
    if (l.find("debug") != std::string::npos) ++debug_lines;
  }
  EXPECT_GE(debug_lines, 1u) << "--debug should print debug lines on stderr\n" << r.describe();

  // With --log, the debug lines go to the file.
  std::string log = dir() + "/debug.log";
  r = rt().run({"--debug", "--log", log, "run", "--bundle", b.dir, "debug-log"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_NE(read_file(log).find("debug"), std::string::npos) << read_file(log);
}

TEST_P(Options, LogLevelErrorHidesWarnings) {
  if (is_runc()) GTEST_SKIP() << "runc has no --log-level";
  Bundle b = make_bundle();
  b.set_args({"true"});
  // A failing poststop hook is a warning (runtime-spec 1.3; a failing poststart hook, a
  // warning before 1.3, now fails the run).
  b.config["hooks"]["poststop"] =
      Json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}}});
  b.save();

  std::string warn_log = dir() + "/warning.log";
  Result r =
      rt().run({"--log", warn_log, "--log-level", "warning", "run", "--bundle", b.dir, "warn"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::string text = read_file(warn_log);
  EXPECT_NE(text.find("poststop"), std::string::npos)
      << "the failing poststop hook should log a warning\n"
      << text;

  std::string err_log = dir() + "/error.log";
  r = rt().run({"--log", err_log, "--log-level", "error", "run", "--bundle", b.dir, "quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(read_file(err_log), "") << "--log-level error must drop warnings";
  EXPECT_EQ(r.err.find("poststop"), std::string::npos)
      << "with --log the warning must not go to stderr either\n"
      << r.describe();
}

TEST_P(Options, HookOutputAnnotations) {
  if (is_runc()) GTEST_SKIP() << "runc does not implement run.oci.hooks.stdout/stderr";
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.config["annotations"]["run.oci.hooks.stdout"] = "hooks.out";
  b.config["annotations"]["run.oci.hooks.stderr"] = "hooks.err";
  b.config["hooks"]["prestart"] = Json::array(
      {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo pre-out; echo pre-err >&2"}}}});
  b.config["hooks"]["poststart"] = Json::array(
      {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo post-out; echo post-err >&2"}}}});
  b.save();
  // The files are opened for appending.
  write_file(b.path("hooks.out"), "old\n");
  chown_to(b.path("hooks.out"), identity());

  Result r = run_container(b, "hookout");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(read_file(b.path("hooks.out")), "old\npre-out\npost-out\n");
  EXPECT_EQ(read_file(b.path("hooks.err")), "pre-err\npost-err\n");
  EXPECT_EQ(r.out.find("pre-out"), std::string::npos) << r.describe();
  EXPECT_EQ(r.err.find("pre-err"), std::string::npos) << r.describe();
}

TEST_P(Options, StatePidMatchesPidFileAndInit) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  auto check_init = [&](pid_t pid) {
    ASSERT_GT(pid, 0);
    std::string proc = "/proc/" + std::to_string(pid);
    std::string cmdline = read_file(proc + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    EXPECT_EQ(cmdline, "sleep 1000 ") << "the state's pid is not the container's init";
    // Innermost pid of the process: 1 in the container's own pid namespace.
    std::string nspid = status_field(read_file(proc + "/status"), "NSpid");
    EXPECT_EQ(nspid.substr(nspid.find_last_of(" \t") + 1), "1") << nspid;
  };

  std::string pid_file = dir() + "/detached.pid";
  ASSERT_RUN_OK(rt().run({"run", "--detach", "--pid-file", pid_file, "--bundle", b.dir, "det"}));
  Json st = rt().state("det");
  EXPECT_EQ(st.value("status", ""), "running") << st.dump();
  pid_t pid = st.value("pid", 0);
  EXPECT_EQ(trim(read_file(pid_file)), std::to_string(pid));
  check_init(pid);

  std::string pid_file2 = dir() + "/created.pid";
  ASSERT_RUN_OK(create(b, "cre", {"--pid-file", pid_file2}));
  pid_t created = rt().state("cre").value("pid", 0);
  EXPECT_EQ(trim(read_file(pid_file2)), std::to_string(created));
  ASSERT_RUN_OK(rt().run({"start", "cre"}));
  Json st2 = rt().state("cre");
  EXPECT_EQ(st2.value("status", ""), "running") << st2.dump();
  EXPECT_EQ(st2.value("pid", 0), created) << "the pid must not change at start";
  check_init(created);
}

URUN_IT_INSTANTIATE(Options);

// ---------------------------------------------------------------------------------------------
// Namespaces

class Namespaces : public IntegrationTest {
 protected:
  // Replaces (or adds) the namespace `type` of `b` by one joined through `path`.
  static void set_namespace_path(Bundle& b, const std::string& type, const std::string& path) {
    Json out = Json::array();
    for (const auto& ns : b.config["linux"]["namespaces"]) {
      if (ns.value("type", "") != type) out.push_back(ns);
    }
    out.push_back({{"type", type}, {"path", path}});
    b.config["linux"]["namespaces"] = out;
  }
  // Removes what a joining container must not set: hostname (a UTS namespace joined by path
  // counts as its own, so it would rename A) and, when joining a user namespace, the id mappings.
  void make_joining(Bundle& b, const std::string& pid) {
    b.config.erase("hostname");
    if (rootless()) {
      set_namespace_path(b, "user", "/proc/" + pid + "/ns/user");
      b.config["linux"].erase("uidMappings");
      b.config["linux"].erase("gidMappings");
    }
  }
};

TEST_P(Namespaces, JoinByPath) {
  BundleOptions oa{.name = "a"};
  Bundle a = make_bundle(oa);
  a.add_namespace("uts");
  a.add_namespace("network");
  a.add_namespace("ipc");
  a.config["hostname"] = "aaa";
  a.set_args({"sleep", "1000"});
  a.save();
  ASSERT_RUN_OK(create(a, "nsa"));
  ASSERT_RUN_OK(rt().run({"start", "nsa"}));
  pid_t pid_a = rt().state("nsa").value("pid", 0);
  ASSERT_GT(pid_a, 0);
  std::string pa = std::to_string(pid_a);
  std::string proc_a = "/proc/" + pa + "/ns/";

  BundleOptions ob{.name = "b"};
  Bundle b = make_bundle(ob);
  make_joining(b, pa);
  set_namespace_path(b, "uts", proc_a + "uts");
  set_namespace_path(b, "network", proc_a + "net");
  set_namespace_path(b, "ipc", proc_a + "ipc");
  b.sh(
      "hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; "
      "readlink /proc/self/ns/uts; readlink /proc/self/ns/user");
  b.save();
  Result r = run_container(b, "nsb");
  if (is_runc() && rootless() && r.exit_code != 0 && r.err.find("mapping") != std::string::npos) {
    GTEST_SKIP() << "runc " << world().runtime_version()
                 << " wants uid/gid mappings even when joining a user namespace: " << r.err;
  }
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], "aaa");
  EXPECT_EQ(lines[1], readlink_str(proc_a + "net"));
  EXPECT_EQ(lines[2], readlink_str(proc_a + "ipc"));
  EXPECT_EQ(lines[3], readlink_str(proc_a + "uts"));
  EXPECT_EQ(lines[4], readlink_str(proc_a + "user"));
  EXPECT_NE(lines[1], readlink_str("/proc/self/ns/net")) << "A has a network namespace of its own";
  EXPECT_EQ(rt().status("nsa"), "running") << "A is untouched";
}

TEST_P(Namespaces, JoinPathOfWrongTypeFails) {
  BundleOptions oa{.name = "a"};
  Bundle a = make_bundle(oa);
  a.add_namespace("network");
  a.set_args({"sleep", "1000"});
  a.save();
  ASSERT_RUN_OK(create(a, "wa"));
  pid_t pid_a = rt().state("wa").value("pid", 0);
  ASSERT_GT(pid_a, 0);
  std::string pa = std::to_string(pid_a);
  auto before = leftover_processes();

  BundleOptions ob{.name = "b"};
  Bundle b = make_bundle(ob);
  make_joining(b, pa);
  std::string net_path = "/proc/" + pa + "/ns/net";
  set_namespace_path(b, "uts", net_path);  // a network namespace given as uts
  b.sh("echo should-not-run");
  b.save();
  Result r = run_container(b, "wb");
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.find("should-not-run"), std::string::npos) << r.describe();
  auto lines = r.err_lines();
  // runc's nsexec stages each print their own fatal line: check the one-line contract for urun.
  if (!is_runc()) {
    EXPECT_EQ(lines.size(), 1u) << "want exactly one line on stderr\n" << r.describe();
  }
  if (!is_runc() && !lines.empty()) {
    EXPECT_NE(lines[0].find(net_path), std::string::npos) << "name the path\n" << r.describe();
    EXPECT_NE(lines[0].find("uts"), std::string::npos) << "name the type\n" << r.describe();
  }
  EXPECT_EQ(state_entries(), std::vector<std::string>{"wa"}) << "only A's state may remain";
  // No process beyond those of A.
  std::vector<pid_t> extra;
  for (int i = 0; i < 300; ++i) {
    extra.clear();
    for (pid_t p : leftover_processes()) {
      if (std::find(before.begin(), before.end(), p) == before.end()) extra.push_back(p);
    }
    if (extra.empty()) break;
    ::usleep(10000);
  }
  EXPECT_TRUE(extra.empty()) << "leftover processes of the failed run: " << extra.size();
  EXPECT_EQ(rt().status("wa"), "created") << "A is untouched";
}

TEST_P(Namespaces, TimeNamespace) {
  if (!path_exists("/proc/self/ns/time")) {
    GTEST_SKIP() << "the kernel has no time namespaces (/proc/self/ns/time)";
  }
  if (is_runc()) GTEST_SKIP() << "runc " << world().runtime_version() << " has no time namespace";
  Bundle b = make_bundle();
  b.add_namespace("time");
  constexpr long kOffset = 86400L * 10;
  b.config["linux"]["timeOffsets"] = {{"boottime", {{"secs", kOffset}, {"nanosecs", 0}}}};
  b.sh("cut -d' ' -f1 /proc/uptime; readlink /proc/self/ns/time");
  b.save();
  double host_before = std::stod(read_file("/proc/uptime"));
  Result r = run_container(b, "timens");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  double inside = std::stod(lines[0]);
  double host_after = std::stod(read_file("/proc/uptime"));
  EXPECT_GE(inside, host_before + kOffset) << r.out;
  EXPECT_LE(inside, host_after + kOffset + 1) << r.out;
  EXPECT_NE(lines[1], readlink_str("/proc/self/ns/time"));
}

TEST_P(Namespaces, CgroupNamespace) {
  if (!path_exists("/proc/self/ns/cgroup")) {
    GTEST_SKIP() << "the kernel has no cgroup namespaces (/proc/self/ns/cgroup)";
  }
  Bundle b = make_bundle();
  b.add_namespace("cgroup");
  b.sh("cat /proc/self/cgroup; echo ==; readlink /proc/self/ns/cgroup");
  b.save();
  Result r = run_container(b, "cgns");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  size_t sep = r.out.find("==\n");
  ASSERT_NE(sep, std::string::npos) << r.out;
  auto lines = split_lines(r.out.substr(0, sep));
  ASSERT_FALSE(lines.empty()) << r.out;
  bool unified = false;
  for (const auto& l : lines) {
    if (l.rfind("0::", 0) == 0) {
      unified = true;
      EXPECT_EQ(l, "0::/") << r.out;
    }
    EXPECT_EQ(l.substr(l.rfind(':') + 1), "/") << "every hierarchy should be rooted\n" << r.out;
  }
  EXPECT_TRUE(unified) << "no 0:: line\n" << r.out;
  EXPECT_NE(trim(r.out.substr(sep + 3)), readlink_str("/proc/self/ns/cgroup"));
}

TEST_P(Namespaces, RootfsPropagation) {
  // A rootfs on a shared mount of its own, so that "slave" is visible too (as a master: tag).
  std::string shared_root = make_host_dir("shared-rootfs");
  host_sh("mount --bind '" + world().rootfs() + "' '" + shared_root + "' && mount --make-shared '" +
          shared_root + "'");
  for (const std::string prop : {"private", "slave", "shared"}) {
    SCOPED_TRACE(prop);
    BundleOptions o{.name = "b-" + prop};
    Bundle b = make_bundle(o);
    b.config["root"]["path"] = shared_root;
    b.config["linux"]["rootfsPropagation"] = prop;
    b.sh("cat /opt/ro/data; cat /proc/self/mountinfo");
    b.save();
    Result r = run_container(b, "prop-" + prop);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out.rfind("data\n", 0), 0u) << r.out;
    auto roots = mountinfo_entries(r.out, "/");
    ASSERT_EQ(roots.size(), 1u) << r.out;
    // runc 1.1 applies rootfsPropagation to the rest of the container's mount tree, not to the
    // root mount itself (it only makes the rootfs's parent mount private for pivot_root).
    if (is_runc()) continue;
    auto opt = optional_fields(roots[0]);
    bool shared = any_starts_with(opt, "shared:");
    bool master = any_starts_with(opt, "master:");
    if (prop == "shared") {
      EXPECT_TRUE(shared) << joined(roots[0]);
    } else {
      EXPECT_FALSE(shared) << joined(roots[0]);
    }
    if (prop == "private") {
      EXPECT_FALSE(master) << joined(roots[0]);
    }
    if (prop == "slave") {
      EXPECT_TRUE(master) << "a slave of the shared host mount\n" << joined(roots[0]);
    }
  }
  if (is_runc()) {
    GTEST_SKIP() << "runc " << world().runtime_version()
                 << " does not set rootfsPropagation on the root mount itself; checked only that "
                    "the containers run";
  }
}

URUN_IT_INSTANTIATE(Namespaces);

}  // namespace
}  // namespace urun_it
