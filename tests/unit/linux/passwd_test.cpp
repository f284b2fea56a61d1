// HOME from the container's /etc/passwd: the parser, and the reader's care with a hostile file.
#include "linux/passwd.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "in_child.hpp"
#include "temp_dir.hpp"

namespace urun::linux {
namespace {

TEST(HomeInPasswd, FirstEntryOfTheUid) {
  const std::string text =
      "root:x:0:0:root:/root:/bin/sh\n"
      "user:x:1000:1000:user:/home/user:/bin/sh\n"
      "again:x:1000:1000::/home/again:/bin/sh\n";
  EXPECT_EQ(home_in_passwd(text, 0), "/root");
  EXPECT_EQ(home_in_passwd(text, 1000), "/home/user");
  EXPECT_EQ(home_in_passwd(text, 4242), std::nullopt);
  EXPECT_EQ(home_in_passwd("", 0), std::nullopt);
}

TEST(HomeInPasswd, SkipsWhatIsNotAnEntry) {
  const std::string text =
      "#c:x:5:5::/comment:/bin/sh\n"
      "\n"
      "short:x:5:5:/short\n"
      "sign:x:+5:5::/sign:/bin/sh\n"
      "suffix:x:5x:5::/suffix:/bin/sh\n"
      "empty:x::5::/empty:/bin/sh\n"
      "big:x:4294967301:5::/big:/bin/sh\n"
      "noshell:x:5:5:gecos:/home/noshell";  // no shell field, no final newline
  EXPECT_EQ(home_in_passwd(text, 5), "/home/noshell");
}

TEST(HomeInPasswd, EmptyHomeIsTheEntrys) {
  EXPECT_EQ(home_in_passwd("a:x:7:7:::/bin/sh\n", 7), "");
}

// container_home() reads /etc/passwd of the process's root: run it chrooted into a temp dir
// (in a user namespace of its own when not root).
int in_root(const std::string& root, uid_t uid) {
  return urun_test::in_child([&] {
    if (::geteuid() != 0 && ::unshare(CLONE_NEWUSER) != 0) return 77;
    if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) return 77;
    auto home = container_home(uid);
    // The answer travels back as the exit code: 0 none, 1 "/home/user", 2 other.
    if (!home) return 0;
    return *home == "/home/user" ? 1 : 2;
  });
}

class ContainerHome : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::mkdir((tmp_.path() + "/etc").c_str(), 0755), 0); }
  std::string passwd() const { return tmp_.path() + "/etc/passwd"; }
  int look_up(uid_t uid) {
    int code = in_root(tmp_.path(), uid);
    if (code == 77) skip_ = true;
    return code;
  }
  bool skip_ = false;
  urun_test::TempDir tmp_;
};

TEST_F(ContainerHome, ReadsTheEntry) {
  std::ofstream(passwd())
      << "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n";
  int code = look_up(1000);
  if (skip_) GTEST_SKIP() << "cannot chroot here (no user namespaces for this user)";
  EXPECT_EQ(code, 1);
  EXPECT_EQ(look_up(4242), 0);
}

TEST_F(ContainerHome, MissingFileIsNoEntry) {
  int code = look_up(1000);
  if (skip_) GTEST_SKIP() << "cannot chroot here (no user namespaces for this user)";
  EXPECT_EQ(code, 0);
}

// A FIFO would block a reader for ever: it is refused without waiting for a writer.
TEST_F(ContainerHome, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(passwd().c_str(), 0644), 0);
  int code = look_up(1000);
  if (skip_) GTEST_SKIP() << "cannot chroot here (no user namespaces for this user)";
  EXPECT_EQ(code, 0);
}

// Only the first kMaxPasswdBytes count, and a line the bound cuts is not an entry: here the bound
// falls inside the home field, "/home/us|er".
TEST_F(ContainerHome, ReadsAtMostTheBound) {
  const std::string entry = "user:x:1000:1000::/home/user:/bin/sh\n";
  const size_t kept = entry.find("er:/bin");
  std::string filler;
  const std::string line = "filler:x:1:1::/nowhere:/bin/sh\n";
  while (filler.size() + line.size() + 2 <= kMaxPasswdBytes - kept) filler += line;
  // A comment line pads the filler to the byte.
  filler += "#" + std::string(kMaxPasswdBytes - kept - filler.size() - 2, 'p') + "\n";
  ASSERT_EQ(filler.size() + kept, kMaxPasswdBytes);
  std::ofstream(passwd()) << filler << entry;
  int code = look_up(1000);
  if (skip_) GTEST_SKIP() << "cannot chroot here (no user namespaces for this user)";
  EXPECT_EQ(code, 0) << "2 would be the cut home /home/us";
}

// An entry wholly past the bound is not seen.
TEST_F(ContainerHome, EntryPastTheBoundIsNotSeen) {
  std::ofstream(passwd()) << "#" << std::string(kMaxPasswdBytes, 'p') << "\n"
                          << "user:x:1000:1000::/home/user:/bin/sh\n";
  int code = look_up(1000);
  if (skip_) GTEST_SKIP() << "cannot chroot here (no user namespaces for this user)";
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace urun::linux
