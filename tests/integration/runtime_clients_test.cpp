// What Podman (through conmon) and containerd's runc shim rely on beyond the OCI commands
// themselves: how urun answers their clean-up calls and their probes.
#include "harness.hpp"

namespace urun_it {
namespace {

class RuntimeClients : public IntegrationTest {
 protected:
  // Creates and starts a container `id` running `true`, and waits until it has exited.
  void run_to_exit(const std::string& id) {
    Bundle b = make_bundle();
    b.set_args({"true"});
    b.save();
    ASSERT_RUN_OK(create(b, id));
    ASSERT_RUN_OK(rt().run({"start", id}));
    ASSERT_EQ(rt().wait_status(id, "stopped"), "stopped");
  }
};

// Podman cleans up after a failed create with `delete --force ID`, whether or not the create
// left anything: with nothing there it must succeed, as runc's does. Without --force it fails.
TEST_P(RuntimeClients, DeleteForceOfMissingContainerSucceeds) {
  EXPECT_RUN_OK(rt().run({"delete", "--force", "never-created"}));
  Result plain = rt().run({"delete", "never-created"});
  EXPECT_NE(plain.exit_code, 0) << plain.describe();
  EXPECT_NE(plain.err.find("does not exist"), std::string::npos) << plain.describe();
}

// containerd's shim kills before it deletes and treats the kill of an exited container as done
// only when the error says "container not running" (runc's words); any other text makes
// `ctr task delete --force` fail.
TEST_P(RuntimeClients, KillOfExitedContainerSaysContainerNotRunning) {
  ASSERT_NO_FATAL_FAILURE(run_to_exit("exited"));
  Result k = rt().run({"kill", "exited", "9"});
  EXPECT_NE(k.exit_code, 0) << k.describe();
  EXPECT_NE(k.err.find("container not running"), std::string::npos) << k.describe();
  EXPECT_RUN_OK(rt().run({"delete", "exited"}));
  EXPECT_TRUE(state_entries().empty());
}

// ... and after every exit it calls `kill --all ID KILL` to reap what the init left: that succeeds
// whether or not anything is left (here nothing: the init had its own pid namespace), with or
// without a cgroup (rootless on a host that delegates none), as runc's does.
TEST_P(RuntimeClients, KillAllOfExitedContainerSucceeds) {
  ASSERT_NO_FATAL_FAILURE(run_to_exit("exited"));
  Result k = rt().run({"kill", "--all", "exited", "KILL"});
  EXPECT_EQ(k.exit_code, 0) << k.describe();
  EXPECT_TRUE(k.err.empty()) << k.describe();
  EXPECT_EQ(rt().status("exited"), "stopped");
  EXPECT_RUN_OK(rt().run({"delete", "exited"}));
  EXPECT_TRUE(state_entries().empty());
}

// Podman asks `checkpoint --help` whether checkpointing works (exit status 0 means yes), and
// then CRIU itself: the probe succeeds and lists the manual's options.
TEST_P(RuntimeClients, CheckpointHelpProbeSucceeds) {
  Result r = rt().run({"checkpoint", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  for (const char* option : {"--image-path", "--work-path", "--leave-running", "--pre-dump",
                             "--parent-path", "--manage-cgroups-mode"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option << "\n" << r.describe();
  Result restore = rt().run({"restore", "--help"});
  EXPECT_EQ(restore.exit_code, 0) << restore.describe();
  EXPECT_NE(restore.out.find("--lsm-mount-context"), std::string::npos) << restore.describe();
}

URUN_IT_INSTANTIATE(RuntimeClients);

}  // namespace
}  // namespace urun_it
