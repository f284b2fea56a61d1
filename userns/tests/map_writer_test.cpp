// Map writing against a fake /proc tree (no privileges needed) and against real child processes
// in new user namespaces (as root, and as an unprivileged uid entered from root with setresuid).
#include "userns/map_writer.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "temp_dir.hpp"
#include "userns/holder.hpp"

namespace urun::userns {
namespace {

namespace fs = std::filesystem;
using Maps = std::vector<Mapping>;

constexpr uint32_t kNobody = 65534;

// The unprivileged ids the "Unprivileged" tests run as: nobody when the suite runs as root (it
// drops to them), else the caller's own ids (the rootless pass runs them as they are).
uint32_t unpriv_uid() { return geteuid() == 0 ? kNobody : geteuid(); }
uint32_t unpriv_gid() { return geteuid() == 0 ? kNobody : getegid(); }

// One line of /proc/<pid>/uid_map as the kernel prints it.
std::string kernel_line(uint32_t a, uint32_t b, uint32_t c) {
  char buf[64];
  snprintf(buf, sizeof buf, "%10u %10u %10u\n", a, b, c);
  return buf;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

// Readable by the unprivileged test uid.
class TempDir : public urun_test::TempDir {
 public:
  TempDir() : urun_test::TempDir("urun-userns", 0755) {}
};

// A child that has unshared its user namespace and waits (for EOF on a pipe) until destroyed.
class NsChild {
 public:
  NsChild() {
    int ready[2], park[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(park, O_CLOEXEC) < 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      close(ready[0]);
      close(park[1]);
      char ok = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
      if (write(ready[1], &ok, 1) != 1) _exit(1);
      char c;
      while (read(park[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(park[0]);
    park_ = park[1];
    char ok = 0;
    if (read(ready[0], &ok, 1) != 1) ok = 0;
    close(ready[0]);
    ok_ = ok == 'y';
  }
  ~NsChild() {
    close(park_);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  bool ok() const { return ok_; }
  std::string proc(const std::string& file) const {
    return "/proc/" + std::to_string(pid_) + "/" + file;
  }

 private:
  pid_t pid_ = -1;
  int park_ = -1;
  bool ok_ = false;
};

// Runs `body` in a forked process that is unprivileged (dropped to uid/gid 65534 when the suite
// runs as root) and returns what it returned ("EXCEPTION: ..." when it threw). The parent asserts
// on the text, so failures are reported by the test process itself.
std::string as_nobody(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    if (geteuid() == 0 && (setgroups(0, nullptr) < 0 || setresgid(kNobody, kNobody, kNobody) < 0 ||
                           setresuid(kNobody, kNobody, kNobody) < 0)) {
      out = "cannot drop privileges";
    } else {
      // Changing credentials clears "dumpable", which would leave the /proc files of our own
      // children owned by root and unwritable to us.
      prctl(PR_SET_DUMPABLE, 1);
      try {
        out = body();
      } catch (const std::exception& e) {
        out = std::string("EXCEPTION: ") + e.what();
      }
    }
    if (write(fds[1], out.data(), out.size()) < 0) _exit(2);
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

// as_nobody() with a child in a new user namespace whose maps the body writes; "SKIP" when
// unprivileged user namespaces are disabled.
std::string as_nobody_with_ns_child(const std::function<std::string(const NsChild&)>& body) {
  return as_nobody([&] {
    NsChild child;
    if (!child.ok()) return std::string("SKIP");
    return body(child);
  });
}

#define REQUIRE_ROOT() \
  if (geteuid() != 0) GTEST_SKIP() << "needs root (runs real user namespaces / setresuid)"

// A fake /proc/<pid> with the three files write_id_maps touches.
struct FakeProc {
  TempDir dir;
  pid_t pid = 4242;
  FakeProc() {
    fs::create_directory(dir / std::to_string(pid));
    for (const char* f : {"uid_map", "gid_map", "setgroups"}) spit(file(f), "");
  }
  std::string file(const std::string& name) const {
    return dir / (std::to_string(pid) + "/" + name);
  }
  WriteOptions options() const {
    WriteOptions o;
    o.proc_dir = dir.path();
    o.caller_uid = 1000;
    o.caller_gid = 1000;
    o.privileged = false;
    return o;
  }
  // options() with a PATH where newuidmap and newgidmap are not found.
  WriteOptions options_without_helpers() const {
    WriteOptions o = options();
    o.path = no_helpers.path();
    return o;
  }
  TempDir no_helpers;
};

// No child of this process is left unreaped (a helper started and given up, or one that failed
// to exec, must have been waited for).
void expect_no_child_left() {
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(MapWriterFake, PrivilegedWritesAllLinesDirectly) {
  FakeProc proc;
  WriteOptions o = proc.options();
  o.privileged = true;
  MapResult r = write_id_maps(proc.pid, {{0, 100000, 65536}, {65536, 5, 1}}, {{0, 200000, 10}}, o);
  EXPECT_EQ(r.uid_method, MapMethod::direct);
  EXPECT_EQ(r.gid_method, MapMethod::direct);
  EXPECT_FALSE(r.setgroups_denied);
  EXPECT_EQ(slurp(proc.file("uid_map")), "0 100000 65536\n65536 5 1\n");
  EXPECT_EQ(slurp(proc.file("gid_map")), "0 200000 10\n");
  EXPECT_EQ(slurp(proc.file("setgroups")), "");  // root keeps setgroups allowed
  EXPECT_TRUE(r.warning.empty());
}

TEST(MapWriterFake, OwnIdUnprivilegedDeniesSetgroupsFirst) {
  FakeProc proc;
  MapResult r = write_id_maps(proc.pid, {{0, 1000, 1}}, {{0, 1000, 1}}, proc.options());
  EXPECT_EQ(r.uid_method, MapMethod::direct);
  EXPECT_EQ(r.gid_method, MapMethod::direct);
  EXPECT_TRUE(r.setgroups_denied);
  EXPECT_EQ(slurp(proc.file("setgroups")), "deny");
  EXPECT_EQ(slurp(proc.file("uid_map")), "0 1000 1\n");
  EXPECT_EQ(slurp(proc.file("gid_map")), "0 1000 1\n");
  EXPECT_EQ(r.describe(), "uid map: direct, gid map: direct, setgroups denied");
}

TEST(MapWriterFake, EmptyMapsWriteNothing) {
  FakeProc proc;
  MapResult r = write_id_maps(proc.pid, {}, {}, proc.options());
  EXPECT_EQ(r.uid_method, MapMethod::none);
  EXPECT_EQ(r.gid_method, MapMethod::none);
  EXPECT_EQ(slurp(proc.file("uid_map")), "");
}

TEST(MapWriterFake, HelperMissingWithoutFallbackThrows) {
  FakeProc proc;
  WriteOptions o = proc.options_without_helpers();
  try {
    write_id_maps(proc.pid, {{0, 1000, 1}, {1, 100000, 65536}}, {}, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("newuidmap not found: install the uidmap package"),
              std::string::npos)
        << e.message();
  }
  EXPECT_EQ(slurp(proc.file("uid_map")), "");
}

TEST(MapWriterFake, HelperMissingFallsBackToSingleMapping) {
  FakeProc proc;
  WriteOptions o = proc.options_without_helpers();
  o.allow_single_fallback = true;
  MapResult r = write_id_maps(proc.pid, {{0, 1000, 1}, {1, 100000, 65536}},
                              {{0, 1000, 1}, {1, 100000, 65536}}, o);
  EXPECT_EQ(r.uid_method, MapMethod::single_fallback);
  EXPECT_EQ(r.gid_method, MapMethod::single_fallback);
  EXPECT_TRUE(r.setgroups_denied);
  EXPECT_EQ(slurp(proc.file("uid_map")), "0 1000 1\n");
  EXPECT_EQ(slurp(proc.file("gid_map")), "0 1000 1\n");
  EXPECT_EQ(slurp(proc.file("setgroups")), "deny");
  EXPECT_NE(r.warning.find("newuidmap not found: install the uidmap package"), std::string::npos);
  EXPECT_NE(r.warning.find("newgidmap not found"), std::string::npos) << r.warning;
}

TEST(MapWriterFake, HelperArgumentsAndFailureStderr) {
  FakeProc proc;
  TempDir bin;
  // newuidmap fails with a message; newgidmap records its arguments and succeeds.
  spit(bin / "newuidmap",
       "#!/bin/sh\necho 'newuidmap: uid range [1-65537) -> [100000-165536) not allowed' >&2\n"
       "exit 1\n",
       0755);
  spit(bin / "newgidmap", "#!/bin/sh\necho \"$@\" > " + (bin / "gid-args") + "\n", 0755);
  WriteOptions o = proc.options();
  o.path = "relative/dir::" + bin.path();  // non-absolute entries are ignored
  o.allow_single_fallback = true;
  MapResult r = write_id_maps(proc.pid, {{0, 1000, 1}, {1, 100000, 65536}},
                              {{0, 1000, 1}, {1, 200000, 65536}}, o);
  EXPECT_EQ(r.uid_method, MapMethod::single_fallback);
  EXPECT_EQ(r.gid_method, MapMethod::newidmap);
  EXPECT_EQ(r.warning,
            "newuidmap failed: newuidmap: uid range [1-65537) -> [100000-165536) not allowed; "
            "check /etc/subuid");
  EXPECT_EQ(slurp(bin / "gid-args"), "4242 0 1000 1 1 200000 65536\n");
  EXPECT_EQ(slurp(proc.file("uid_map")), "0 1000 1\n");
  EXPECT_EQ(slurp(proc.file("gid_map")), "");  // the helper's job, not ours
  EXPECT_EQ(r.describe(), "uid map: single mapping fallback, gid map: newgidmap");

  // Without the fallback the helper's stderr is the error.
  FakeProc proc2;
  WriteOptions o2 = proc2.options();
  o2.path = bin.path();
  try {
    write_id_maps(proc2.pid, {{0, 1000, 1}, {1, 100000, 65536}}, {}, o2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("not allowed; check /etc/subuid"), std::string::npos) << e.message();
  }
}

// The helpers start with PendingIdMaps, before finish(): each fake helper leaves a file, and
// both files are there before finish() is called.
TEST(MapWriterFake, PendingIdMapsStartsTheHelpersBeforeFinish) {
  FakeProc proc;
  TempDir bin;
  for (const char* helper : {"newuidmap", "newgidmap"})
    spit(bin / helper, "#!/bin/sh\necho \"$@\" > " + (bin / helper) + ".ran\n", 0755);
  WriteOptions o = proc.options();
  o.path = bin.path();
  PendingIdMaps pending(proc.pid, {{0, 1000, 1}, {1, 100000, 65536}},
                        {{0, 1000, 1}, {1, 200000, 65536}}, o);
  bool both_ran = false;
  for (int i = 0; i < 500 && !both_ran; ++i) {
    both_ran = fs::exists(bin / "newuidmap.ran") && fs::exists(bin / "newgidmap.ran");
    if (!both_ran) ::usleep(10000);
  }
  EXPECT_TRUE(both_ran) << "the helpers did not run within 5 s of the start";
  MapResult r = pending.finish();
  EXPECT_EQ(r.uid_method, MapMethod::newidmap);
  EXPECT_EQ(r.gid_method, MapMethod::newidmap);
  EXPECT_EQ(slurp(bin / "newuidmap.ran"), "4242 0 1000 1 1 100000 65536\n");
  EXPECT_EQ(slurp(bin / "newgidmap.ran"), "4242 0 1000 1 1 200000 65536\n");
  EXPECT_THROW(pending.finish(), Error);  // once only
}

// Pending maps given up (the init died before asking) leave no helper unreaped.
TEST(MapWriterFake, PendingIdMapsGivenUpReapsTheHelpers) {
  FakeProc proc;
  TempDir bin;
  spit(bin / "newuidmap", "#!/bin/sh\nexit 0\n", 0755);
  WriteOptions o = proc.options();
  o.path = bin.path();
  { PendingIdMaps pending(proc.pid, {{0, 1000, 1}, {1, 100000, 65536}}, {}, o); }
  expect_no_child_left();
}

// A helper that fails without a word, or that the kernel cannot execute (its interpreter is
// missing): the warning says which and why, and no child is left unreaped.
TEST(MapWriterFake, HelperFailingSilentlyOrNotExecutable) {
  TempDir bin;
  const std::string helper = bin / "newuidmap";
  const std::pair<std::string, std::string> cases[] = {
      {"#!/bin/sh\nexit 3\n", "newuidmap failed: exit status 3; check /etc/subuid"},
      {"#!/nonexistent/interpreter\n", "newuidmap failed: cannot execute " + helper +
                                           ": No such file or directory; check /etc/subuid"}};
  for (const auto& [script, warning] : cases) {
    FakeProc proc;
    spit(helper, script, 0755);
    WriteOptions o = proc.options();
    o.path = bin.path();
    o.allow_single_fallback = true;
    MapResult r = write_id_maps(proc.pid, {{0, 1000, 1}, {1, 100000, 65536}}, {}, o);
    EXPECT_EQ(r.uid_method, MapMethod::single_fallback) << script;
    EXPECT_EQ(r.warning, warning);
    expect_no_child_left();
  }
}

TEST(MapWriterFake, FindProgram) {
  TempDir bin;
  spit(bin / "tool", "#!/bin/sh\n", 0755);
  spit(bin / "notexec", "", 0644);
  EXPECT_EQ(find_program("tool", "/nonexistent:" + bin.path()), bin / "tool");
  EXPECT_EQ(find_program("notexec", bin.path()), "");
  EXPECT_EQ(find_program("tool", std::string("")), "");
}

// A set PATH is the only place looked in (so a PATH without newuidmap opts out
// of it); an unset PATH falls back to the default directories.
TEST(MapWriterFake, FindProgramHonoursPathAndDefaultsOnlyWhenUnset) {
  TempDir bin;
  spit(bin / "tool", "#!/bin/sh\n", 0755);
  const char* saved = std::getenv("PATH");
  std::string saved_path = saved ? saved : "";
  ::setenv("PATH", bin.path().c_str(), 1);
  EXPECT_EQ(find_program("tool", std::nullopt), bin / "tool");
  ::setenv("PATH", "/nonexistent", 1);
  EXPECT_EQ(find_program("sh", std::nullopt), "");
  ::unsetenv("PATH");
  EXPECT_NE(find_program("sh", std::nullopt), "");
  if (saved) ::setenv("PATH", saved_path.c_str(), 1);
}

TEST(MapWriterFake, MissingPidIsAnError) {
  FakeProc proc;
  EXPECT_THROW(write_id_maps(1, {{0, 1000, 1}}, {}, proc.options()), Error);
}

TEST(MapWriter, RootDirectRealChild) {
  REQUIRE_ROOT();
  NsChild child;
  ASSERT_TRUE(child.ok());
  MapResult r = write_id_maps(child.pid(), {{0, 0, 65536}}, {{0, 100000, 65536}, {65536, 7, 1}});
  EXPECT_EQ(r.uid_method, MapMethod::direct);
  EXPECT_EQ(r.gid_method, MapMethod::direct);
  EXPECT_FALSE(r.setgroups_denied);
  EXPECT_EQ(parse_id_map(slurp(child.proc("uid_map"))), (Maps{{0, 0, 65536}}));
  EXPECT_EQ(parse_id_map(slurp(child.proc("gid_map"))), (Maps{{0, 100000, 65536}, {65536, 7, 1}}));
  EXPECT_EQ(slurp(child.proc("setgroups")), "allow\n");
  // A second write is refused by the kernel: the error names the file.
  try {
    write_id_maps(child.pid(), {{0, 0, 1}}, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("uid_map"), std::string::npos) << e.message();
    EXPECT_EQ(e.code(), EPERM);
  }
}

TEST(MapWriter, RootHelperArgumentsReachTheKernel) {
  REQUIRE_ROOT();
  TempDir bin;
  // Stand-ins for newuidmap/newgidmap that write their triplets, so what the kernel holds
  // afterwards proves the argument order.
  const char* script =
      "#!/bin/sh\npid=$1; shift; out=''\n"
      "while [ $# -gt 0 ]; do out=\"$out$1 $2 $3\n\"; shift 3; done\n"
      "printf \"$out\" > /proc/$pid/%s\n";
  char buf[512];
  snprintf(buf, sizeof buf, script, "uid_map");
  spit(bin / "newuidmap", buf, 0755);
  snprintf(buf, sizeof buf, script, "gid_map");
  spit(bin / "newgidmap", buf, 0755);
  NsChild child;
  ASSERT_TRUE(child.ok());
  WriteOptions o;
  o.path = bin.path();
  o.privileged = false;
  MapResult r = write_id_maps(child.pid(), {{0, 1000, 1}, {1, 100000, 65536}},
                              {{0, 2000, 1}, {1, 200000, 100}}, o);
  EXPECT_EQ(r.uid_method, MapMethod::newidmap);
  EXPECT_EQ(r.gid_method, MapMethod::newidmap);
  EXPECT_EQ(parse_id_map(slurp(child.proc("uid_map"))), (Maps{{0, 1000, 1}, {1, 100000, 65536}}));
  EXPECT_EQ(parse_id_map(slurp(child.proc("gid_map"))), (Maps{{0, 2000, 1}, {1, 200000, 100}}));
}

TEST(MapWriter, UnprivilegedFallbackWhenNewuidmapAbsent) {
  TempDir empty;
  std::string out = as_nobody_with_ns_child([&](const NsChild& child) {
    WriteOptions o;
    o.path = empty.path();
    o.allow_single_fallback = true;
    MapResult r = write_id_maps(child.pid(), {{0, unpriv_uid(), 1}, {1, 100000, 65536}},
                                {{0, unpriv_gid(), 1}, {1, 100000, 65536}}, o);
    return std::string(to_string(r.uid_method)) + "|" + std::string(to_string(r.gid_method)) + "|" +
           (r.setgroups_denied ? "denied" : "allowed") + "|" + slurp(child.proc("uid_map")) + "|" +
           slurp(child.proc("gid_map")) + "|" + slurp(child.proc("setgroups")) + "|" + r.warning;
  });
  if (out == "SKIP") GTEST_SKIP() << "unprivileged user namespaces are disabled";
  EXPECT_EQ(out, "single mapping fallback|single mapping fallback|denied|" +
                     kernel_line(0, unpriv_uid(), 1) + "|" + kernel_line(0, unpriv_gid(), 1) +
                     "|deny\n|" +
                     "newuidmap not found: install the uidmap package (shadow-utils on Fedora); "
                     "newgidmap not found: install the uidmap package (shadow-utils on Fedora)");
}

TEST(MapWriter, UnprivilegedWithoutFallbackFails) {
  TempDir empty;
  std::string out = as_nobody_with_ns_child([&](const NsChild& child) {
    WriteOptions o;
    o.path = empty.path();
    write_id_maps(child.pid(), {{0, unpriv_uid(), 1}, {1, 100000, 65536}}, {}, o);
    return std::string("no error");
  });
  if (out == "SKIP") GTEST_SKIP() << "unprivileged user namespaces are disabled";
  EXPECT_NE(out.find("EXCEPTION: "), std::string::npos) << out;
  EXPECT_NE(out.find("newuidmap not found"), std::string::npos) << out;
}

TEST(MapWriter, UnprivilegedRealNewuidmapRefusal) {
  if (find_program("newuidmap", std::nullopt).empty()) GTEST_SKIP() << "newuidmap not installed";
  // nobody has no /etc/subuid entry on a sane system: the real helper refuses, and its own
  // message is what the user gets in the warning.
  std::string out = as_nobody_with_ns_child([&](const NsChild& child) {
    WriteOptions o;
    o.allow_single_fallback = true;
    MapResult r =
        write_id_maps(child.pid(), {{0, unpriv_uid(), 1}, {1, 3000000000u, 65536}}, {}, o);
    return std::string(to_string(r.uid_method)) + "|" + slurp(child.proc("uid_map")) + "|" +
           r.warning;
  });
  if (out == "SKIP") GTEST_SKIP() << "unprivileged user namespaces are disabled";
  EXPECT_EQ(
      out.rfind(
          "single mapping fallback|" + kernel_line(0, unpriv_uid(), 1) + "|newuidmap failed: ", 0),
      0u)
      << out;
  EXPECT_NE(out.find("; check /etc/subuid"), std::string::npos) << out;
}

TEST(MapWriter, UnprivilegedOwnIdDirect) {
  std::string out = as_nobody_with_ns_child([&](const NsChild& child) {
    MapResult r = write_id_maps(child.pid(), {{0, unpriv_uid(), 1}}, {{0, unpriv_gid(), 1}});
    return r.describe() + "|" + slurp(child.proc("gid_map"));
  });
  if (out == "SKIP") GTEST_SKIP() << "unprivileged user namespaces are disabled";
  EXPECT_EQ(
      out, "uid map: direct, gid map: direct, setgroups denied|" + kernel_line(0, unpriv_gid(), 1));
}

bool same_inode(int fd, const std::string& path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

TEST(MapWriter, HolderAsRoot) {
  REQUIRE_ROOT();
  pid_t pid;
  {
    UsernsHolder holder({{0, 100000, 65536}}, {{0, 100000, 65536}});
    pid = holder.pid();
    ASSERT_GT(pid, 0);
    EXPECT_GE(holder.ns_fd(), 0);
    std::string proc = "/proc/" + std::to_string(pid);
    EXPECT_EQ(parse_id_map(slurp(proc + "/uid_map")), (Maps{{0, 100000, 65536}}));
    EXPECT_EQ(parse_id_map(slurp(proc + "/gid_map")), (Maps{{0, 100000, 65536}}));
    EXPECT_TRUE(same_inode(holder.ns_fd(), proc + "/ns/user"));
    EXPECT_FALSE(same_inode(holder.ns_fd(), "/proc/self/ns/user"));
    EXPECT_EQ(holder.map_result().uid_method, MapMethod::direct);
    int flags = fcntl(holder.ns_fd(), F_GETFD);
    EXPECT_TRUE(flags & FD_CLOEXEC);

    // Moving keeps one owner of the child.
    UsernsHolder moved(std::move(holder));
    EXPECT_EQ(moved.pid(), pid);
    EXPECT_EQ(holder.pid(), -1);
  }
  // Reaped: the pid no longer names our child.
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(MapWriter, HolderBadMapReapsChild) {
  REQUIRE_ROOT();
  // Overlapping lines: the kernel refuses the write; the holder must throw and leave no child.
  try {
    UsernsHolder holder({{0, 0, 10}, {5, 100, 10}}, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message().rfind("create user namespace holder: ", 0), 0u) << e.message();
  }
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(MapWriter, HolderUnprivilegedOwnId) {
  std::string out = as_nobody([&] {
    UsernsHolder holder({{0, unpriv_uid(), 1}}, {{0, unpriv_gid(), 1}});
    std::string proc = "/proc/" + std::to_string(holder.pid());
    return holder.map_result().describe() + "|" + slurp(proc + "/uid_map") + "|" +
           (same_inode(holder.ns_fd(), proc + "/ns/user") ? "same" : "different");
  });
  if (out.find("clone a user namespace holder") != std::string::npos) {
    GTEST_SKIP() << "unprivileged user namespaces are disabled: " << out;
  }
  EXPECT_EQ(out, "uid map: direct, gid map: direct, setgroups denied|" +
                     kernel_line(0, unpriv_uid(), 1) + "|same");
}

}  // namespace
}  // namespace urun::userns
