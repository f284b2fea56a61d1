// prepare_rootfs + enter_rootfs + finish_rootfs for real, as root, in a forked
// child with its own mount namespace (so the host's mounts are never touched),
// then checks /proc/self/mountinfo and the files from inside the container.
// Skipped when not root. A second pass runs in a user namespace, where host
// mount flags are locked, sysfs needs the bind fallback and mknod is refused.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "linux/mounts/rootfs.hpp"

namespace {

namespace stdfs = std::filesystem;
using urun::spec::Mount;

// Collects failures in the child; they travel to the parent through a pipe.
struct Checks {
  std::string failures;
  void expect(bool ok, const std::string &what) {
    if (!ok) failures += what + "\n";
  }
};

struct MountEntry {
  std::string fstype;
  std::string options;  // per-mount options: "ro,nosuid,..."
};

// Mount point -> the topmost mount there.
std::map<std::string, MountEntry> read_mountinfo() {
  std::map<std::string, MountEntry> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, options, f;
    fields >> id >> parent >> dev >> root >> point >> options;
    while (fields >> f && f != "-") {
    }
    std::string fstype;
    fields >> fstype;
    out[point] = {fstype, options};
  }
  return out;
}

bool has_option(const std::string &options, const std::string &opt) {
  return ("," + options + ",").find("," + opt + ",") != std::string::npos;
}

std::string read_text(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string link_of(const std::string &path) {
  std::error_code ec;
  auto target = stdfs::read_symlink(path, ec);
  return ec ? "" : target.string();
}

bool is_char_dev(const std::string &path, unsigned major, unsigned minor) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) &&
         st.st_rdev == makedev(major, minor);
}

bool read_only(const std::string &path) {
  struct statvfs sv;
  return ::statvfs(path.c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

Mount make_mount(std::string dest, std::string type, std::string source,
                 std::vector<std::string> options) {
  Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

// Runs body in a forked child; the child's failures (or exception) come back as
// text.
struct ChildResult {
  int status = -1;
  std::string output;
};

ChildResult run_forked(const std::function<void(Checks &)> &body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return {-1, "pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Checks checks;
    try {
      body(checks);
    } catch (const std::exception &e) {
      checks.failures += std::string("exception: ") + e.what() + "\n";
    }
    ssize_t ignored = ::write(fds[1], checks.failures.data(), checks.failures.size());
    (void)ignored;
    ::_exit(checks.failures.empty() ? 0 : 1);
  }
  ::close(fds[1]);
  ChildResult result;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) result.output.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = status;
  return result;
}

// In a child: a user namespace mapping root to root, then fresh mount, pid,
// ipc and uts namespaces (but the host's network namespace, so sysfs must
// fall back to a bind). The body runs as pid 1 of the new pid namespace.
// `locked` gets a nosuid,nodev,noexec,noatime tmpfs first, made as real root:
// inside the user namespace those flags are locked (MNT_LOCK_*), so a bind
// remount that forgot them would fail with EPERM.
void in_user_namespace(Checks &checks, const std::string &locked,
                       const std::function<void(Checks &)> &body) {
  if (::unshare(CLONE_NEWNS) < 0) throw urun::Error("unshare(CLONE_NEWNS) failed", errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
      ::mount("tmpfs", locked.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME,
              nullptr) < 0) {
    throw urun::Error("mount the locked tmpfs", errno);
  }
  if (::unshare(CLONE_NEWUSER) < 0) throw urun::Error("unshare(CLONE_NEWUSER) failed", errno);
  std::ofstream("/proc/self/setgroups") << "deny";
  std::ofstream("/proc/self/uid_map") << "0 0 1";
  std::ofstream("/proc/self/gid_map") << "0 0 1";
  if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
    throw urun::Error("unshare in the user namespace failed", errno);
  }
  ChildResult inner = run_forked(body);
  checks.failures += inner.output;
  checks.expect(WIFEXITED(inner.status), "the inner child did not exit normally");
}

class MountRootfs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount (runs in a private mount namespace)";
    char tmpl[] = "/tmp/urun-rootfs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    rootfs_ = base_ / "rootfs";
    for (const char *d : {"proc", "sys", "dev", "tmp", "etc", "bin"}) {
      stdfs::create_directories(rootfs_ / d);
    }
    std::ofstream(rootfs_ / "etc" / "hostname") << "urun\n";
    stdfs::create_directories(rootfs_ / "etc" / "sub");
    std::ofstream(rootfs_ / "etc" / "sub" / "deep") << "deep\n";
    stdfs::create_symlink("hostname", rootfs_ / "etc" / "hn");
    // Mount destinations that try to leave the rootfs.
    stdfs::create_directories(base_ / "outside");
    stdfs::create_symlink("../outside", rootfs_ / "evil");
    stdfs::create_symlink("/../../urun-test-outside2", rootfs_ / "evil2");
    stdfs::create_symlink("../../../urun-test-outside3", rootfs_ / "evil3");
    // Bind sources.
    stdfs::create_directories(base_ / "data" / "sub");
    std::ofstream(base_ / "data" / "file") << "data\n";
    stdfs::create_symlink("some/target", base_ / "lnk");
    stdfs::create_directories(base_ / "locked");
  }
  void TearDown() override {
    if (!base_.empty()) stdfs::remove_all(base_);
  }

  urun::spec::Spec default_like_spec(bool user_ns) {
    urun::spec::Spec spec;
    spec.root.path = rootfs_.string();
    spec.root.readonly = true;
    spec.mounts = {
        make_mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
        make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        make_mount("/dev/pts", "devpts", "devpts",
                   {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        make_mount("/dev/shm", "tmpfs", "shm",
                   {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        make_mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        make_mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        make_mount("/sys/fs/cgroup", "cgroup", "cgroup",
                   {"nosuid", "noexec", "nodev", "relatime", "ro"}),
        make_mount("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}),
        make_mount("/evil/sub", "tmpfs", "tmpfs", {}),
        make_mount("/evil2/sub2", "tmpfs", "tmpfs", {}),
        make_mount("/evil3", "tmpfs", "tmpfs", {}),
        make_mount("/etc", "tmpfs", "tmpfs", {"tmpcopyup"}),
        make_mount("/data", "bind", (base_ / "data").string(), {"rbind", "ro", "nosuid"}),
        make_mount("/rdata", "", (base_ / "data").string(), {"rbind", "rro"}),
        make_mount("/hostfile", "", (base_ / "data" / "file").string(), {"bind", "ro"}),
        make_mount("/lnk", "", (base_ / "lnk").string(), {"bind", "copy-symlink"}),
        make_mount("/locked", "", (base_ / "locked").string(), {"bind", "ro"}),
    };
    urun::spec::Linux linux;
    linux.masked_paths = {"/proc/kcore", "/proc/keys", "/sys/firmware", "/proc/nonexistent"};
    linux.readonly_paths = {"/proc/sys", "/proc/sysrq-trigger", "/proc/missing"};
    // A redefined default device; as root also one in a new directory (with a
    // user namespace it must be bound from the host, which has no such path).
    linux.devices.push_back({"c", "/dev/full", 1, 7, 0600, 0, 0});
    if (!user_ns) linux.devices.push_back({"c", "/dev/nested/fuse-like", 1, 7, 0640, 0, 0});
    spec.linux = linux;
    return spec;
  }

  // Everything a container with the default-like spec should see from inside.
  void check_container(Checks &c, bool user_ns) {
    auto mounts = read_mountinfo();
    auto expect_mount = [&](const std::string &point, const std::string &fstype) {
      auto it = mounts.find(point);
      c.expect(it != mounts.end(), "no mount at " + point);
      if (it != mounts.end() && !fstype.empty()) {
        c.expect(it->second.fstype == fstype,
                 point + " is " + it->second.fstype + ", expected " + fstype);
      }
      return it != mounts.end() ? it->second : MountEntry{};
    };
    c.expect(has_option(expect_mount("/", "").options, "ro"), "/ is not read-only");
    expect_mount("/proc", "proc");
    expect_mount("/dev", "tmpfs");
    expect_mount("/dev/pts", "devpts");
    expect_mount("/dev/shm", "tmpfs");
    expect_mount("/dev/mqueue", "mqueue");
    // With the host's network namespace in a user namespace, sysfs is a bind of
    // the host's.
    auto sys = expect_mount("/sys", "sysfs");
    c.expect(has_option(sys.options, "ro") && has_option(sys.options, "nosuid"),
             "/sys is not ro,nosuid: " + sys.options);
    struct statfs host_cg;
    ::statfs("/sys/fs/cgroup", &host_cg);
    auto cg = expect_mount("/sys/fs/cgroup", "");
    c.expect(cg.fstype == "tmpfs" || cg.fstype == "cgroup2", "/sys/fs/cgroup is " + cg.fstype);
    if (cg.fstype == "tmpfs") {
      c.expect(has_option(cg.options, "ro"), "/sys/fs/cgroup tmpfs is not read-only");
      for (const auto &[point, entry] : mounts) {
        if (point.rfind("/sys/fs/cgroup/", 0) == 0 &&
            (entry.fstype == "cgroup" || entry.fstype == "cgroup2")) {
          c.expect(has_option(entry.options, "ro"), point + " is not read-only");
        }
      }
      c.expect(stdfs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") ||
                   !stdfs::exists("/sys/fs/cgroup/memory"),
               "/sys/fs/cgroup/memory is not the memory hierarchy");
    }
    // Destinations behind hostile links ended up inside the rootfs.
    expect_mount("/outside/sub", "tmpfs");
    expect_mount("/urun-test-outside2/sub2", "tmpfs");
    expect_mount("/urun-test-outside3", "tmpfs");
    // tmpcopyup kept the covered /etc (files, directories, links).
    expect_mount("/etc", "tmpfs");
    c.expect(read_text("/etc/hostname") == "urun\n", "/etc/hostname lost by tmpcopyup");
    c.expect(read_text("/etc/sub/deep") == "deep\n", "/etc/sub/deep lost by tmpcopyup");
    c.expect(link_of("/etc/hn") == "hostname", "/etc/hn link lost by tmpcopyup");
    // Bind mounts with flags, recursive flags and copy-symlink.
    auto data = expect_mount("/data", "");
    c.expect(has_option(data.options, "ro") && has_option(data.options, "nosuid"),
             "/data is not ro,nosuid: " + data.options);
    c.expect(read_text("/data/file") == "data\n", "/data/file not visible");
    c.expect(read_only("/rdata/sub"), "rro did not reach the submount /rdata/sub");
    c.expect(read_only("/hostfile") && read_text("/hostfile") == "data\n", "/hostfile bind");
    c.expect(link_of("/lnk") == "some/target", "copy-symlink: /lnk is " + link_of("/lnk"));
    auto locked = expect_mount("/locked", "");
    c.expect(has_option(locked.options, "ro"), "/locked is not ro: " + locked.options);
    if (user_ns) {
      for (const char *opt : {"nosuid", "nodev", "noexec", "noatime"}) {
        c.expect(has_option(locked.options, opt), std::string("/locked lost locked ") + opt);
      }
    }
    // Devices and links.
    for (auto [name, minor] :
         {std::pair{"null", 3u}, {"zero", 5u}, {"full", 7u}, {"random", 8u}, {"urandom", 9u}}) {
      c.expect(is_char_dev(std::string("/dev/") + name, 1, minor), std::string("/dev/") + name);
    }
    c.expect(is_char_dev("/dev/tty", 5, 0), "/dev/tty");
    if (!user_ns) {
      c.expect(is_char_dev("/dev/nested/fuse-like", 1, 7), "/dev/nested/fuse-like (linux.devices)");
    }
    {
      int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      c.expect(fd >= 0 && ::write(fd, "x", 1) == 1, "/dev/null is not writable");
      if (fd >= 0) ::close(fd);
    }
    if (!user_ns) {
      struct stat st;
      c.expect(::stat("/dev/full", &st) == 0 && (st.st_mode & 07777) == 0600,
               "/dev/full mode is not 0600 (the spec's device must win over "
               "the default)");
      c.expect(::stat("/dev/nested/fuse-like", &st) == 0 && (st.st_mode & 07777) == 0640,
               "/dev/nested/fuse-like mode is not 0640");
    }
    c.expect(link_of("/dev/fd") == "/proc/self/fd", "/dev/fd link");
    c.expect(link_of("/dev/stdin") == "/proc/self/fd/0", "/dev/stdin link");
    c.expect(link_of("/dev/stdout") == "/proc/self/fd/1", "/dev/stdout link");
    c.expect(link_of("/dev/stderr") == "/proc/self/fd/2", "/dev/stderr link");
    c.expect(link_of("/dev/ptmx") == "pts/ptmx", "/dev/ptmx link");
    // Masked and read-only paths.
    c.expect(is_char_dev("/proc/keys", 1, 3), "/proc/keys is not masked by /dev/null");
    c.expect(read_text("/proc/keys").empty(), "/proc/keys readable");
    struct statfs fw;
    c.expect(::statfs("/sys/firmware", &fw) == 0 && fw.f_type == 0x01021994,
             "/sys/firmware is not masked by a tmpfs");
    c.expect(stdfs::is_empty("/sys/firmware"), "/sys/firmware is not empty");
    c.expect(read_only("/proc/sys"), "/proc/sys is not read-only");
    int fd = ::open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    c.expect(fd < 0 && errno == EROFS, "/proc/sys/kernel/hostname is writable");
    if (fd >= 0) ::close(fd);
    // root.readonly, while /tmp (its own tmpfs) stays writable.
    fd = ::open("/newfile", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    c.expect(fd < 0 && errno == EROFS, "/ is writable");
    if (fd >= 0) ::close(fd);
    fd = ::open("/tmp/newfile", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    c.expect(fd >= 0, "/tmp is not writable");
    if (fd >= 0) ::close(fd);
    // The old root is gone.
    c.expect(!stdfs::exists(base_), "the host's " + base_.string() + " is visible inside");
  }

  void run_container(Checks &c, bool user_ns) {
    urun::spec::Spec spec = default_like_spec(user_ns);
    if (!user_ns && ::unshare(CLONE_NEWNS) < 0) throw urun::Error("unshare(CLONE_NEWNS)", errno);
    // A submount in the bind source (our namespace only) for the recursive
    // flags.
    if (::mount("tmpfs", (base_ / "data" / "sub").c_str(), "tmpfs", 0, nullptr) < 0) {
      throw urun::Error("mount the submount", errno);
    }
    urun::linux::RootfsOptions options;
    options.rootfs = rootfs_.string();
    options.new_user_ns = user_ns;
    options.user_ns = user_ns;
    // In a user namespace the init hands over the rootfs it opened before taking its ids.
    urun::UniqueFd rootfs_fd;
    if (user_ns) {
      rootfs_fd.reset(::open(options.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      options.rootfs_fd = rootfs_fd.get();
    }
    urun::UniqueFd root = urun::linux::prepare_rootfs(spec, options);
    // Before pivot_root the host paths the links aimed at are still untouched.
    c.expect(!stdfs::exists(base_ / "outside" / "sub"), "a mount landed on the host's outside/");
    c.expect(!stdfs::exists("/urun-test-outside2"), "a mount destination landed on the host's /");
    c.expect(!stdfs::exists("/urun-test-outside3"), "a mount destination landed on the host's /");
    c.expect(!stdfs::exists(base_.parent_path() / "urun-test-outside3"),
             "a mount destination landed next to the rootfs");
    urun::linux::enter_rootfs(root.get(), options.rootfs, false);
    urun::linux::finish_rootfs(spec);
    check_container(c, user_ns);
  }

  stdfs::path base_, rootfs_;
};

TEST_F(MountRootfs, DefaultLikeSpecAsRoot) {
  ChildResult r = run_forked([&](Checks &c) { run_container(c, false); });
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  EXPECT_EQ(r.output, "");
  EXPECT_FALSE(stdfs::exists("/urun-test-outside2"));
  EXPECT_FALSE(stdfs::exists("/urun-test-outside3"));
  EXPECT_FALSE(stdfs::exists(base_ / "outside" / "sub"));
  EXPECT_TRUE(stdfs::is_directory(rootfs_ / "outside" / "sub"))
      << "the mount point behind `evil` was not created inside the rootfs";
}

TEST_F(MountRootfs, DefaultLikeSpecInAUserNamespace) {
  ChildResult r = run_forked([&](Checks &c) {
    in_user_namespace(c, (base_ / "locked").string(),
                      [&](Checks &inner) { run_container(inner, true); });
  });
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  EXPECT_EQ(r.output, "");
  EXPECT_FALSE(stdfs::exists("/urun-test-outside2"));
}

TEST_F(MountRootfs, NoPivotChroots) {
  ChildResult r = run_forked([&](Checks &c) {
    if (::unshare(CLONE_NEWNS) < 0) throw urun::Error("unshare(CLONE_NEWNS)", errno);
    urun::spec::Spec spec;
    spec.mounts = {make_mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"})};
    urun::linux::RootfsOptions options;
    options.rootfs = rootfs_.string();
    urun::UniqueFd root = urun::linux::prepare_rootfs(spec, options);
    urun::linux::enter_rootfs(root.get(), options.rootfs, true);
    urun::linux::finish_rootfs(spec);
    c.expect(read_text("/etc/hostname") == "urun\n", "not chrooted into the rootfs");
    c.expect(read_mountinfo().count("/proc") == 1, "no /proc inside");
    // Without a tmpfs on /dev only the missing devices are made, and no links.
    c.expect(is_char_dev("/dev/null", 1, 3), "/dev/null missing");
    c.expect(link_of("/dev/fd").empty(), "/dev/fd made on a /dev that is not a tmpfs");
  });
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.output;
  EXPECT_EQ(r.output, "");
}

// What may go on /proc and below it, and a /proc or /sys that is a symlink in the rootfs.
// prepare_rootfs with `mounts` in a private mount namespace; the error text ("" when it
// succeeded) comes back, and `after` checks the result when it did.
std::string prepare_error(const stdfs::path &rootfs, std::vector<Mount> mounts,
                          const std::function<void(Checks &)> &after = nullptr) {
  ChildResult r = run_forked([&](Checks &c) {
    if (::unshare(CLONE_NEWNS) < 0) throw urun::Error("unshare(CLONE_NEWNS)", errno);
    urun::spec::Spec spec;
    spec.mounts = std::move(mounts);
    urun::linux::RootfsOptions options;
    options.rootfs = rootfs.string();
    try {
      urun::linux::prepare_rootfs(spec, options);
    } catch (const urun::Error &e) {
      c.failures += std::string("error: ") + e.what();
      return;
    }
    if (after) after(c);
  });
  const std::string prefix = "error: ";
  return r.output.starts_with(prefix) ? r.output.substr(prefix.size()) : r.output;
}

TEST_F(MountRootfs, OnlyProcfsGoesOnProc) {
  const Mount proc = make_mount("/proc", "proc", "proc", {});
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/proc", "tmpfs", "tmpfs", {})}),
            "mount `tmpfs` on `/proc`: only procfs may be mounted on /proc");
  // A bind: only of the root of a procfs.
  EXPECT_EQ(
      prepare_error(rootfs_, {make_mount("/proc", "bind", (base_ / "data").string(), {"rbind"})}),
      "mount `" + (base_ / "data").string() + "` on `/proc`: only procfs may be mounted on /proc");
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/proc", "bind", "/proc/sys", {"rbind"})}),
            "mount `/proc/sys` on `/proc`: only procfs may be mounted on /proc");
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/proc", "bind", "/proc", {"rbind"})}), "");
  // Over a procfs already mounted there, reached by its name or through a link to it.
  stdfs::create_symlink("/proc", rootfs_ / "proclink");
  EXPECT_EQ(prepare_error(rootfs_, {proc, make_mount("/proclink", "tmpfs", "tmpfs", {})}),
            "mount `tmpfs` on `/proclink`: only procfs may be mounted on /proc");
  EXPECT_EQ(prepare_error(rootfs_, {proc, make_mount("/proc", "proc", "proc", {})}), "");
}

TEST_F(MountRootfs, BelowProcOnlyTheFilesLxcfsEmulates) {
  const Mount proc = make_mount("/proc", "proc", "proc", {});
  const std::string data = (base_ / "data").string(), file = (base_ / "data" / "file").string();
  for (const char *dest : {"/proc/sys/kernel", "/proc/sys/net", "/proc/sys", "/proc/1",
                           "/proc/self/attr", "/proc/sysrq-trigger"}) {
    EXPECT_EQ(prepare_error(rootfs_, {proc, make_mount(dest, "bind", data, {"rbind"})}),
              "mount `" + data + "` on `" + dest +
                  "`: cannot be mounted inside /proc (of /proc only files such as /proc/meminfo "
                  "that lxcfs emulates may be covered)")
        << dest;
  }
  // Written otherwise, or before the proc mount: the same.
  EXPECT_NE(prepare_error(rootfs_, {make_mount("/proc//sys/./kernel", "tmpfs", "tmpfs", {}), proc})
                .find("cannot be mounted inside /proc"),
            std::string::npos);
  // Through a link into the mounted procfs.
  stdfs::create_symlink("/proc/sys", rootfs_ / "syslink");
  EXPECT_EQ(
      prepare_error(rootfs_, {proc, make_mount("/syslink/kernel", "bind", data, {"rbind"})}),
      "mount `" + data + "` on `/syslink/kernel`: the destination leads inside a procfs mount");
  for (const char *dest : {"/proc/meminfo", "/proc/cpuinfo", "/proc/uptime"}) {
    EXPECT_EQ(prepare_error(rootfs_, {proc, make_mount(dest, "bind", file, {"bind"})},
                            [&](Checks &c) {
                              c.expect(read_text(rootfs_.string() + dest) == "data\n",
                                       std::string(dest) + " does not show the bound file");
                            }),
              "")
        << dest;
  }
}

TEST_F(MountRootfs, ProcAndSysMustBeOrdinaryDirectories) {
  stdfs::remove(rootfs_ / "proc");
  stdfs::remove(rootfs_ / "sys");
  stdfs::create_directories(rootfs_ / "fake");
  stdfs::create_symlink("/fake", rootfs_ / "proc");
  stdfs::create_symlink("fake", rootfs_ / "sys");
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/proc", "proc", "proc", {})}),
            "mount `proc` on `/proc`: must be mounted on an ordinary directory, but `/proc` in the "
            "rootfs is a symlink");
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/sys", "sysfs", "sysfs", {"ro"})}),
            "mount `sysfs` on `/sys`: must be mounted on an ordinary directory, but `/sys` in the "
            "rootfs is a symlink");
  // The rootless form of /sys: a bind of the host's.
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/sys", "none", "/sys", {"rbind", "ro"})}),
            "mount `/sys` on `/sys`: must be mounted on an ordinary directory, but `/sys` in the "
            "rootfs is a symlink");
  // procfs through a link anywhere else.
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/evil", "proc", "proc", {})}),
            "mount `proc` on `/evil`: must be mounted on an ordinary directory, but `/evil` in the "
            "rootfs is a symlink");
  // A regular file in their place.
  stdfs::remove(rootfs_ / "proc");
  std::ofstream(rootfs_ / "proc") << "";
  EXPECT_EQ(prepare_error(rootfs_, {make_mount("/proc", "proc", "proc", {})}),
            "mount `proc` on `/proc`: must be mounted on an ordinary directory, but `/proc` in the "
            "rootfs is not a directory");
  EXPECT_TRUE(stdfs::is_empty(rootfs_ / "fake")) << "something was mounted through the link";
}

TEST_F(MountRootfs, ErrorsNameTheMount) {
  ChildResult r = run_forked([&](Checks &c) {
    if (::unshare(CLONE_NEWNS) < 0) throw urun::Error("unshare(CLONE_NEWNS)", errno);
    urun::spec::Spec spec;
    spec.mounts = {make_mount("/x", "nosuchfs", "src", {})};
    urun::linux::RootfsOptions options;
    options.rootfs = rootfs_.string();
    try {
      urun::linux::prepare_rootfs(spec, options);
      c.expect(false, "mounting an unknown filesystem succeeded");
    } catch (const urun::Error &e) {
      c.expect(std::string(e.what()) == "mount `src` on `/x`: No such device",
               std::string("message: ") + e.what());
    }
  });
  EXPECT_EQ(r.output, "");
}

}  // namespace
