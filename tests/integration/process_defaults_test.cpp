// What every container process gets without asking, as with crun and runc: HOME from the
// container's /etc/passwd, a cwd that exists, stdio it may reopen, a session of its own, and a
// loopback interface that is up in a network namespace of its own. Checked from inside, for the
// init and for exec'd processes alike.
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>

#include "harness.hpp"

namespace urun_it {
namespace {

// A uid with no entry in the test rootfs's /etc/passwd (root, user 1000 and nobody).
constexpr int kUnlistedUid = 4242;

class ProcessDefaults : public IntegrationTest {
 protected:
  // Runs `script` under sh in a fresh container of bundle `b` and returns the result.
  Result run_sh(Bundle& b, const std::string& script) {
    b.sh(script);
    b.save();
    std::string id = "p" + std::to_string(++n_);
    Result r = run_container(b, id);
    rt().run({"delete", "--force", id});
    return r;
  }
  // A started container `id` running `sleep 1000`, whose ids from 1 up are mapped (rootless).
  void start_sleeper(Bundle& b, const std::string& id) {
    map_subordinate_ids(b);
    start_sleeping(b, id);
  }
  // `sh -c '<runtime> --root <state> ARGS REDIRECTIONS'` as the mode's identity: the runtime's
  // stdio is then whatever the shell makes of `redirections` (a pipe, a file).
  Result runtime_through_shell(const std::vector<std::string>& args,
                               const std::string& redirections) {
    std::string cmd = "'" + world().runtime() + "' --root '" + rt().state_root() + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    return run_as(identity(), {"sh", "-c", cmd + " " + redirections}, dir() + "/io");
  }
  // The lines of `text`, sorted: stdout and stderr may reach a shared pipe in either order when a
  // runtime relays them.
  static std::vector<std::string> sorted_lines(const std::string& text) {
    auto lines = split_lines(text);
    std::sort(lines.begin(), lines.end());
    return lines;
  }
  // The config's env without any HOME=.
  static void drop_home(Bundle& b) {
    Json env = Json::array();
    for (const auto& e : b.config["process"]["env"])
      if (!e.get<std::string>().starts_with("HOME=")) env.push_back(e);
    b.config["process"]["env"] = env;
  }

 private:
  int n_ = 0;
};

// ---------------------------------------------------------------------------------------------
// HOME

TEST_P(ProcessDefaults, HomeComesFromTheContainersPasswd) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  drop_home(b);
  const std::string script = "echo \"$HOME\"; env | grep -c '^HOME='";
  struct Case {
    int uid;
    std::string want;
  };
  for (const Case& c : {Case{0, "/root"}, Case{1000, "/home/user"}, Case{kUnlistedUid, "/"}}) {
    SCOPED_TRACE("uid " + std::to_string(c.uid));
    b.config["process"]["user"] = {{"uid", c.uid}, {"gid", c.uid}};
    Result r = run_sh(b, script);
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, c.want + "\n1\n");
  }
}

TEST_P(ProcessDefaults, HomeSetByTheConfigIsKept) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  drop_home(b);
  b.add_env("HOME=/custom");
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  Result r = run_sh(b, "echo \"$HOME\"; env | grep -c '^HOME='");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "/custom\n1\n");
}

// /etc/passwd is the image's: a FIFO would block a reader for ever, a device could be read
// without end. Neither holds the container up; HOME falls back to "/".
TEST_P(ProcessDefaults, HostilePasswdFallsBackToRoot) {
  Bundle b = make_bundle({.writable_rootfs = true});
  drop_home(b);
  const std::string passwd = b.rootfs + "/etc/passwd";
  ASSERT_EQ(::unlink(passwd.c_str()), 0);
  ASSERT_EQ(::mkfifo(passwd.c_str(), 0644), 0);
  ::lchown(passwd.c_str(), identity().uid, identity().gid);
  Result fifo = run_sh(b, "echo \"$HOME\"");
  ASSERT_EQ(fifo.exit_code, 0) << fifo.describe();
  EXPECT_EQ(fifo.out, "/\n");

  ASSERT_EQ(::unlink(passwd.c_str()), 0);
  ASSERT_EQ(::symlink("/dev/zero", passwd.c_str()), 0);
  ::lchown(passwd.c_str(), identity().uid, identity().gid);
  Result zero = run_sh(b, "echo \"$HOME\"");
  ASSERT_EQ(zero.exit_code, 0) << zero.describe();
  EXPECT_EQ(zero.out, "/\n");
}

TEST_P(ProcessDefaults, ExecGetsHomeFromTheContainersPasswd) {
  Bundle b = make_bundle();
  drop_home(b);
  start_sleeper(b, "c1");
  const std::string script = "echo \"$HOME\"; env | grep -c '^HOME='";
  struct Case {
    std::string user;
    std::string want;
  };
  for (const Case& c : {Case{"0:0", "/root"}, Case{"1000:1000", "/home/user"},
                        Case{std::to_string(kUnlistedUid), "/"}}) {
    SCOPED_TRACE("--user " + c.user);
    Result r = exec({"--user", c.user, "c1", "sh", "-c", script});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, c.want + "\n1\n");
  }
  Result set = exec({"--env", "HOME=/custom", "--user", "1000", "c1", "sh", "-c", script});
  ASSERT_EQ(set.exit_code, 0) << set.describe();
  EXPECT_EQ(set.out, "/custom\n1\n");
}

// ---------------------------------------------------------------------------------------------
// cwd

// crun makes a missing cwd (mode 0755, owned by the container's root) before the rootfs turns
// read-only.
TEST_P(ProcessDefaults, MissingCwdIsCreated) {
  for (bool readonly : {false, true}) {
    SCOPED_TRACE(readonly ? "read-only rootfs" : "writable rootfs");
    Bundle b = make_bundle({.name = readonly ? "ro" : "rw", .writable_rootfs = true});
    map_subordinate_ids(b);
    b.config["root"]["readonly"] = readonly;
    b.config["process"]["cwd"] = "/new/deep/cwd";
    b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    Result r = run_sh(b, "pwd; ls -a");
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "/new/deep/cwd\n.\n..\n");
    for (const std::string rel : {"/new", "/new/deep", "/new/deep/cwd"}) {
      struct stat st {};
      ASSERT_EQ(::lstat((b.rootfs + rel).c_str(), &st), 0) << rel;
      EXPECT_TRUE(S_ISDIR(st.st_mode)) << rel;
      EXPECT_EQ(st.st_mode & 07777, 0755u) << rel;
      EXPECT_EQ(st.st_uid, identity().uid) << rel << ": owned by the container's root";
    }
  }
}

// As in crun, exec does not make its cwd: a missing one fails the exec.
TEST_P(ProcessDefaults, ExecDoesNotCreateItsCwd) {
  Bundle b = make_bundle({.writable_rootfs = true});
  start_sleeper(b, "c1");
  Result r = exec({"--cwd", "/not/there", "c1", "pwd"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("/not/there"), std::string::npos) << r.describe();
  EXPECT_FALSE(path_exists(b.rootfs + "/not"));
}

// ---------------------------------------------------------------------------------------------
// stdio

// A pipe made by the caller belongs to the caller: the process user could not reopen it through
// /dev/stdout (a pipe's mode is 0600) unless it is handed over to that user.
TEST_P(ProcessDefaults, NonRootProcessCanReopenStdioPipes) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.sh("echo out > /dev/stdout && echo err > /dev/stderr && echo done");
  b.save();
  Result r = runtime_through_shell({"run", "--bundle", b.dir, "pipe1"}, "2>&1 | cat");
  rt().run({"delete", "--force", "pipe1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(sorted_lines(r.out), (std::vector<std::string>{"done", "err", "out"})) << r.describe();
}

TEST_P(ProcessDefaults, ExecNonRootProcessCanReopenStdioPipes) {
  Bundle b = make_bundle();
  start_sleeper(b, "c1");
  Result r =
      runtime_through_shell({"exec", "--user", "1000:1000", "c1", "sh", "-c",
                             "echo out > /dev/stdout && echo err > /dev/stderr && echo done"},
                            "2>&1 | cat");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(sorted_lines(r.out), (std::vector<std::string>{"done", "err", "out"})) << r.describe();
}

// Signals the runtime's caller ignores (nohup, a shell's `trap ''`) are not the container's: its
// process starts with every disposition at the default, and nothing blocked, as with crun.
TEST_P(ProcessDefaults, SignalsIgnoredByTheCallerAreDefaultInTheContainer) {
  Bundle b = make_bundle();
  // Not through sh: busybox's sh ignores SIGQUIT for what it runs.
  b.config["process"]["args"] = {"grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"};
  b.save();
  const std::string cmd = "trap '' HUP USR1 PIPE TERM; exec '" + world().runtime() + "' --root '" +
                          rt().state_root() + "' run --bundle '" + b.dir + "' sig1";
  Result r = run_as(identity(), {"sh", "-c", cmd}, dir() + "/io");
  rt().run({"delete", "--force", "sig1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("SigIgn:\t0000000000000000"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("SigBlk:\t0000000000000000"), std::string::npos) << r.describe();

  Bundle s = make_bundle({.name = "s"});
  start_sleeper(s, "sig2");
  const std::string exec_cmd = "trap '' HUP USR1 PIPE TERM; exec '" + world().runtime() +
                               "' --root '" + rt().state_root() +
                               "' exec sig2 grep -E '^Sig(Ign|Blk):' /proc/self/status";
  r = run_as(identity(), {"sh", "-c", exec_cmd}, dir() + "/io");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("SigIgn:\t0000000000000000"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("SigBlk:\t0000000000000000"), std::string::npos) << r.describe();
}

// Only what belongs to the caller is handed over: a file of another user that the caller passes
// as stdout keeps its owner.
TEST_P(ProcessDefaults, StdioOfAnotherOwnerIsLeftAlone) {
  Bundle b = make_bundle();
  map_subordinate_ids(b);
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.sh("echo written");
  b.save();
  const std::string out = dir() + "/others.out";
  write_file(out, "", 0666);
  ASSERT_EQ(::chown(out.c_str(), 65534, 65534), 0);
  Result r = runtime_through_shell({"run", "--bundle", b.dir, "other1"}, ">> '" + out + "'");
  rt().run({"delete", "--force", "other1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(read_file(out), "written\n");
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
}

// A single mapping of root with process user 1000 puts the process in an intermediate user
// namespace (1000 -> the container's root): HOME is still its user's, and a pipe of the caller
// (the container's root) is the process user's there. As root the caller is not mapped into the
// container at all: its pipe stays out of reach, as with crun, so only HOME is checked.
TEST_P(ProcessDefaults, IntermediateUserNamespaceGetsHomeAndStdio) {
  Bundle b = make_bundle();
  drop_home(b);
  // Rootless: the caller's own ids, one of each (`spec --rootless` leaves the maps to the runtime).
  if (!b.has_namespace("user")) b.add_namespace("user");
  const uint32_t host_uid = rootless() ? identity().uid : 3000000;
  const uint32_t host_gid = rootless() ? identity().gid : 3000000;
  b.config["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", host_uid}, {"size", 1}}};
  b.config["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", host_gid}, {"size", 1}}};
  ASSERT_EQ(b.config["linux"]["uidMappings"].size(), 1u);
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  std::string script = "cat /proc/self/uid_map; echo \"$HOME\"";
  if (rootless()) script += "; echo out > /dev/stdout && echo err > /dev/stderr";
  b.sh(script);
  b.save();
  Result r = runtime_through_shell({"run", "--bundle", b.dir, "inter1"}, "2>&1 | cat");
  rt().run({"delete", "--force", "inter1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_GE(lines.size(), 2u) << r.describe();
  EXPECT_EQ(trim(lines[0]).substr(0, 4), "1000") << "not in the intermediate namespace\n"
                                                 << r.describe();
  EXPECT_EQ(lines[1], "/home/user") << r.describe();
  if (rootless()) {
    EXPECT_EQ(sorted_lines(r.out.substr(r.out.find("/home/user\n") + 11)),
              (std::vector<std::string>{"err", "out"}))
        << r.describe();
  }
}

// ---------------------------------------------------------------------------------------------
// session

// Field 6 of /proc/PID/stat is the session id: a session leader's is its own pid.
TEST_P(ProcessDefaults, ProcessIsASessionLeader) {
  Bundle b = make_bundle();
  Result r = run_sh(b, "set -- $(cat /proc/$$/stat); echo $1 $6");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto fields = split_lines(r.out);
  ASSERT_EQ(fields.size(), 1u) << r.out;
  EXPECT_EQ(fields[0], "1 1") << "pid and session id of the init";
}

TEST_P(ProcessDefaults, ExecProcessIsASessionLeader) {
  Bundle b = make_bundle();
  start_sleeper(b, "c1");
  Result r = exec({"c1", "sh", "-c", "set -- $(cat /proc/$$/stat); echo $1; echo $6"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto fields = split_lines(r.out);
  ASSERT_EQ(fields.size(), 2u) << r.out;
  EXPECT_EQ(fields[0], fields[1]) << "pid and session id of the exec'd process";
}

// ---------------------------------------------------------------------------------------------
// loopback

TEST_P(ProcessDefaults, LoopbackIsUpInANewNetworkNamespace) {
  Bundle b = make_bundle();
  b.add_namespace("network");
  Result r = run_sh(b, "ip -o link show lo");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("<LOOPBACK,UP"), std::string::npos) << r.out;
}

// A joined network namespace is someone else's: its loopback is left as it is.
TEST_P(ProcessDefaults, JoinedNetworkNamespaceIsLeftAlone) {
  Bundle a = make_bundle({.name = "a"});
  a.add_namespace("network");
  for (auto& [set, caps] : a.config["process"]["capabilities"].items())
    caps.push_back("CAP_NET_ADMIN");
  a.sh("ip link set lo down && echo down && exec sleep 1000");
  a.save();
  Result ca = create(a, "neta");
  ASSERT_EQ(ca.exit_code, 0) << ca.describe();
  ASSERT_RUN_OK(rt().run({"start", "neta"}));
  wait_file_contains(ca.out_path, "down");
  const std::string ns = "/proc/" + std::to_string(rt().state("neta").value("pid", 0)) + "/ns/";

  Bundle b = make_bundle({.name = "b"});
  Json namespaces = Json::array();
  for (const auto& n : b.config["linux"]["namespaces"]) {
    std::string type = n.value("type", "");
    if (type != "network" && type != "user") namespaces.push_back(n);
  }
  namespaces.push_back({{"type", "network"}, {"path", ns + "net"}});
  if (rootless()) {
    // The network namespace belongs to A's user namespace.
    namespaces.push_back({{"type", "user"}, {"path", ns + "user"}});
    b.config["linux"].erase("uidMappings");
    b.config["linux"].erase("gidMappings");
  }
  b.config["linux"]["namespaces"] = namespaces;
  Result r = run_sh(b, "ip -o link show lo");
  if (is_runc() && rootless() && r.exit_code != 0 && r.err.find("mapping") != std::string::npos) {
    GTEST_SKIP() << "runc " << world().runtime_version()
                 << " wants uid/gid mappings even when joining a user namespace: " << r.err;
  }
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("<LOOPBACK>"), std::string::npos) << r.out;
}

URUN_IT_INSTANTIATE(ProcessDefaults);

}  // namespace
}  // namespace urun_it
