// The status of a container whose create was aborted: a record still "creating" whose
// creator process is gone counts as stopped (delete then cleans it up); while the creator lives
// it is "creating".
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/status.hpp"
#include "state/store.hpp"

namespace {

using urun::state::Record;

// A pid that existed and is gone (its start time is recorded while it lives).
std::pair<pid_t, uint64_t> dead_process() {
  int ready[2];
  EXPECT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[1]);
    char c;
    (void)!::read(ready[0], &c, 1);
    _exit(0);
  }
  uint64_t start = urun::state::process_start_time(pid);
  ::close(ready[0]);
  ::close(ready[1]);  // the child reads EOF and exits
  ::waitpid(pid, nullptr, 0);
  return {pid, start};
}

Record creating_record() {
  Record r;
  r.id = "c";
  r.status = "creating";
  return r;
}

TEST(AbortedCreateStatus, CreatingWhileTheCreatorLives) {
  Record r = creating_record();
  r.creator_pid = ::getpid();
  r.creator_start_time = urun::state::process_start_time(::getpid());
  EXPECT_EQ(urun::container::current_status(r), "creating");
  r.pid = ::getpid();  // the init is known: still creating
  r.pid_start_time = r.creator_start_time;
  EXPECT_EQ(urun::container::current_status(r), "creating");
}

TEST(AbortedCreateStatus, StoppedOnceTheCreatorIsGone) {
  Record r = creating_record();
  auto [pid, start] = dead_process();
  ASSERT_GT(start, 0u);
  r.creator_pid = pid;
  r.creator_start_time = start;
  EXPECT_EQ(urun::container::current_status(r), "stopped");
  // Even with a live init left behind: it never got its start signal.
  r.pid = ::getpid();
  r.pid_start_time = urun::state::process_start_time(::getpid());
  EXPECT_EQ(urun::container::current_status(r), "stopped");
}

TEST(AbortedCreateStatus, RecordsWithoutACreatorKeepTheirMeaning) {
  Record r = creating_record();
  EXPECT_EQ(urun::container::current_status(r), "creating");
  r.status = "created";
  r.pid = ::getpid();
  r.pid_start_time = urun::state::process_start_time(::getpid());
  auto [pid, start] = dead_process();
  r.creator_pid = pid;  // a finished create's creator may be gone: irrelevant
  r.creator_start_time = start;
  EXPECT_EQ(urun::container::current_status(r), "created");
}

}  // namespace
