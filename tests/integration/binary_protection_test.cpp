// CVE-2019-5736: a container process must not be able to overwrite the runtime binary on the
// host through /proc/<pid>/exe of a runtime process that is inside the container (the init or
// an exec'd process before their execve, or the runtime itself when the container makes it run
// its own binary as the container's program through /proc/self/exe). The test runs its own copy
// of the runtime, owned by the caller (the worst case for a rootless user: a binary in ~/bin), and
// compares its bytes before and after the attack.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "harness.hpp"

namespace urun_it {
namespace {

// The attacker, the container's init: it waits for a process whose executable is not busybox
// (a runtime process in the container), keeps a read fd on its /proc/N/exe, tries to write
// through the link, releases the runtime (it blocks reading the fifo), then tries again through
// the kept fd once the runtime process is gone or runs another program (the binary is no longer
// busy then).
constexpr const char* kAttacker = R"SH(
mkfifo /dev/shm/fifo
echo ready
while :; do
  for d in /proc/[0-9]*; do
    n=${d#/proc/}
    [ "$n" = 1 ] && continue
    e=$(readlink $d/exe 2>/dev/null) || continue
    case "$e" in ""|*busybox*) continue;; esac
    echo "target $e"
    exec 3<$d/exe
    (echo pwned > $d/exe) 2>/dev/null && echo wrote-through-link
    (echo x > /dev/shm/fifo) &
    i=0
    while [ $i -lt 100 ] && [ "$(readlink $d/exe 2>/dev/null)" = "$e" ]; do
      i=$((i+1)); sleep 0.1
    done
    (echo pwned > /proc/self/fd/3) 2>/dev/null && echo wrote-through-fd
    echo attack-done
    exec sleep 1000
  done
done
)SH";

class BinaryProtection : public IntegrationTest {
 protected:
  // A copy of the runtime owned by the caller.
  std::string own_copy() {
    std::string copy = dir() + "/own-runtime";
    std::filesystem::copy_file(world().runtime(), copy);
    EXPECT_EQ(::chown(copy.c_str(), identity().uid, identity().gid), 0);
    EXPECT_EQ(::chmod(copy.c_str(), 0755), 0);
    return copy;
  }
  Result run_copy(const std::string& copy, std::vector<std::string> args) {
    args.insert(args.begin(), {copy, "--root", rt().state_root()});
    return run_as(identity(), args, dir() + "/io");
  }
};

TEST_P(BinaryProtection, ExecOfProcSelfExeCannotOverwriteTheRuntime) {
  const std::string copy = own_copy();
  const std::string before = read_file(copy);
  ASSERT_FALSE(before.empty());
  // The runtime is linked dynamically: the container needs the host's loader and libraries
  // to run it (as any glibc-based image would have).
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  for (const char* lib : {"/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}) {
    if (!path_exists(lib)) continue;
    b.add_mount(
        {{"destination", lib}, {"type", "bind"}, {"source", lib}, {"options", {"rbind", "ro"}}});
  }
  b.sh(kAttacker);
  b.save();
  Result c = run_copy(copy, {"create", "--bundle", b.dir, "c1"});
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(run_copy(copy, {"start", "c1"}));
  ASSERT_EQ(read_file(c.out_path).find("pwned"), std::string::npos);
  // The runtime's own binary as the container's program: it blocks reading the fifo (the
  // resources file of an `update`), long enough for the attacker to find it.
  Result e = run_copy(
      copy, {"exec", "c1", "/proc/self/exe", "update", "--resources", "/dev/shm/fifo", "nothing"});
  std::string out = wait_file_contains(c.out_path, "attack-done", std::chrono::milliseconds(15000));
  // The attack must have reached the runtime process, or the test proves nothing.
  EXPECT_NE(out.find("target"), std::string::npos) << out << e.describe();
  EXPECT_EQ(out.find("wrote-through"), std::string::npos) << out << e.describe();
  EXPECT_TRUE(read_file(copy) == before) << "the runtime binary was changed: " << out;
  run_copy(copy, {"delete", "--force", "c1"});
}

// During create: a second container joins the attacker's pid namespace, so its init (the runtime,
// waiting for `start`) is visible to the attacker for as long as the test likes.
TEST_P(BinaryProtection, InitDuringCreateCannotOverwriteTheRuntime) {
  const std::string copy = own_copy();
  const std::string before = read_file(copy);
  Bundle a = make_bundle(BundleOptions{.name = "attacker"});
  a.sh(kAttacker);
  a.save();
  Result c = run_copy(copy, {"create", "--bundle", a.dir, "a"});
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(run_copy(copy, {"start", "a"}));
  wait_file_contains(c.out_path, "ready");
  pid_t attacker = rt().state("a").value("pid", 0);
  ASSERT_GT(attacker, 0);

  Bundle v = make_bundle(BundleOptions{.name = "victim"});
  v.set_args({"sleep", "1000"});
  // Rootless: the attacker's pid namespace belongs to its user namespace; join that too.
  for (auto& ns : v.config["linux"]["namespaces"])
    if (ns["type"] == "pid" || ns["type"] == "user")
      ns["path"] = "/proc/" + std::to_string(attacker) + "/ns/" + std::string(ns["type"]);
  if (rootless()) {
    v.config["linux"].erase("uidMappings");
    v.config["linux"].erase("gidMappings");
  }
  v.save();
  Result vc = run_copy(copy, {"create", "--bundle", v.dir, "v"});
  ASSERT_EQ(vc.exit_code, 0) << vc.describe();
  // In a user namespace the waiting init is dumpable (the parent needs its /proc files): the
  // attacker must find it. Without one it is non-dumpable and stays out of reach.
  std::string out = read_file(c.out_path);
  if (rootless()) {
    out = wait_file_contains(c.out_path, "target");
  } else {
    ::usleep(1500 * 1000);
    out = read_file(c.out_path);
  }
  ASSERT_RUN_OK(run_copy(copy, {"start", "v"}));
  if (out.find("target") != std::string::npos)
    out = wait_file_contains(c.out_path, "attack-done", std::chrono::milliseconds(15000));
  EXPECT_EQ(out.find("wrote-through"), std::string::npos) << out;
  EXPECT_TRUE(read_file(copy) == before) << "the runtime binary was changed: " << out;
  run_copy(copy, {"delete", "--force", "v"});
  run_copy(copy, {"delete", "--force", "a"});
}

URUN_IT_INSTANTIATE(BinaryProtection);

}  // namespace
}  // namespace urun_it
