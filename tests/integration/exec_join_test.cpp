// exec joins what the container's init is in: the innermost user namespace of a
// container that runs with an intermediate user namespace, and a --cgroup
// sub-cgroup of the container's cgroup on a cgroup v1 (or hybrid) host.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "harness.hpp"

namespace urun_it {
namespace {

std::string mapping_lines(const std::string& text) {
  std::string out;
  for (const auto& line : split_lines(text)) {
    std::istringstream is(line);
    std::string word, joined;
    while (is >> word) joined += (joined.empty() ? "" : " ") + word;
    if (!joined.empty()) out += joined + "\n";
  }
  return out;
}

Json mapping(uint32_t container_id, uint32_t host_id, uint32_t size) {
  return {{"containerID", container_id}, {"hostID", host_id}, {"size", size}};
}

class ExecJoin : public IntegrationTest {};

// A user namespace of one mapping of root with process.user 1000:1000 makes
// urun add an intermediate user namespace (1000 -> 0) for the init: exec must
// land in that one.
TEST_P(ExecJoin, IntermediateUserNamespace) {
  Bundle b = make_bundle();
  // Rootless: the caller's own ids (`spec --rootless` leaves the mappings to the runtime).
  b.add_namespace("user");
  b.config["linux"]["uidMappings"] = {mapping(0, rootless() ? identity().uid : 3000000, 1)};
  b.config["linux"]["gidMappings"] = {mapping(0, rootless() ? identity().gid : 3000000, 1)};
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  // The init prints its ids and maps as it sees them (a reader outside the
  // namespace would see other ids); the exec'd process runs the same script.
  const std::string script =
      "id; echo ==; cat /proc/self/uid_map; echo ==; "
      "cat /proc/self/gid_map; echo ==; ";
  b.sh(script + "exec sleep 1000");
  b.save();
  Result c = create(b, "c1");
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_RUN_OK(rt().run({"start", "c1"}));
  std::string init_out;
  // Until the three "==" lines are out (id's own output has '=' signs too).
  auto separators = [](const std::string& text) {
    size_t n = 0;
    for (const auto& line : split_lines(text)) n += line == "==";
    return n;
  };
  for (int i = 0; i < 1000 && separators(init_out) < 3; ++i) {
    if (i) ::usleep(10000);
    init_out = mapping_lines(read_file(c.out_path));
  }
  EXPECT_TRUE(init_out.starts_with("uid=1000(user) gid=1000(user)")) << init_out;
  EXPECT_NE(init_out.find("==\n1000 0 1\n==\n1000 0 1\n==\n"), std::string::npos) << init_out;
  pid_t init = rt().state("c1").value("pid", 0);
  ASSERT_GT(init, 0);
  const std::string proc = "/proc/" + std::to_string(init);

  Result same = exec({"c1", "sh", "-c", script});
  ASSERT_EQ(same.exit_code, 0) << same.describe();
  EXPECT_EQ(mapping_lines(same.out), init_out);

  char want[128] = {};
  ASSERT_GT(::readlink((proc + "/ns/user").c_str(), want, sizeof want - 1), 0);
  Result ns = exec({"c1", "readlink", "/proc/self/ns/user"});
  ASSERT_EQ(ns.exit_code, 0) << ns.describe();
  EXPECT_EQ(trim(ns.out), want);

  // The exit status passes through; -u 0 names an id that does not exist in the
  // namespace.
  EXPECT_EQ(exec({"c1", "sh", "-c", "exit 7"}).exit_code, 7);
  Result root = exec({"-u", "0", "c1", "id"});
  EXPECT_NE(root.exit_code, 0) << root.describe();
  EXPECT_EQ(root.err_lines().size(), 1u) << root.describe();
  EXPECT_EQ(rt().status("c1"), "running");
}

// --cgroup on a cgroup v1 host: the sub-cgroup must exist below the container's
// cgroup; the process enters it in every hierarchy where it exists (crun), and
// the command fails when none has it.
TEST_P(ExecJoin, SubCgroupOnCgroupV1) {
  if (path_exists("/sys/fs/cgroup/cgroup.controllers"))
    GTEST_SKIP() << "the host runs cgroup v2 only: this test is for cgroup v1 "
                    "hierarchies";
  Bundle b = make_bundle();
  if (rootless()) {
    // No cgroup a non-root user may write here: the container runs without one
    // and --cgroup must say so in one line.
    ASSERT_NO_FATAL_FAILURE(start_sleeping(b, "c1"));
    Result r = exec({"--cgroup", "sub", "c1", "true"});
    EXPECT_NE(r.exit_code, 0) << r.describe();
    ASSERT_EQ(r.err_lines().size(), 1u) << r.describe();
    EXPECT_NE(r.err_lines()[0].find("--cgroup"), std::string::npos) << r.describe();
    EXPECT_NE(r.err_lines()[0].find("no cgroup"), std::string::npos) << r.describe();
    return;
  }
  b.config["linux"]["cgroupsPath"] = "/urun-it-exec-" + std::to_string(::getpid());
  ASSERT_NO_FATAL_FAILURE(start_sleeping(b, "c1"));
  const std::string path = b.config["linux"]["cgroupsPath"];
  const std::string memory = "/sys/fs/cgroup/memory" + path;
  const std::string pids = "/sys/fs/cgroup/pids" + path;
  ASSERT_TRUE(path_exists(memory)) << memory;
  ASSERT_TRUE(path_exists(pids)) << pids;

  // In no hierarchy yet: refused, nothing runs.
  Result none = exec({"--cgroup", "sub", "c1", "true"});
  EXPECT_NE(none.exit_code, 0) << none.describe();
  ASSERT_EQ(none.err_lines().size(), 1u) << none.describe();
  EXPECT_NE(none.err_lines()[0].find("sub"), std::string::npos) << none.describe();
  Result up = exec({"--cgroup", "../escape", "c1", "true"});
  EXPECT_NE(up.exit_code, 0) << up.describe();

  ASSERT_EQ(::mkdir((memory + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((pids + "/sub").c_str(), 0755), 0);
  Result r = exec({"--cgroup", "sub", "c1", "cat", "/proc/self/cgroup"});
  // The sub-cgroups go before the container's own (removed by delete).
  ::rmdir((memory + "/sub").c_str());
  ::rmdir((pids + "/sub").c_str());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  // The container has no cgroup namespace here: /proc/self/cgroup shows host
  // paths. The other hierarchies keep the process where the init is.
  auto by_key = [](const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& line : split_lines(text)) {
      size_t a = line.find(':'), z = line.find(':', a + 1);
      if (a != std::string::npos && z != std::string::npos)
        out[line.substr(a + 1, z - a - 1)] = line.substr(z + 1);
    }
    return out;
  };
  auto init =
      by_key(read_file("/proc/" + std::to_string(rt().state("c1").value("pid", 0)) + "/cgroup"));
  auto got = by_key(r.out);
  EXPECT_EQ(got["memory"], path + "/sub") << r.out;
  EXPECT_EQ(got["pids"], path + "/sub") << r.out;
  EXPECT_EQ(init["memory"], path);
  ASSERT_GT(init.size(), 2u);
  for (const auto& [key, where] : init) {
    if (key == "memory" || key == "pids") continue;
    EXPECT_EQ(got[key], where) << key << ": " << r.out;
  }
}

URUN_IT_INSTANTIATE(ExecJoin);

}  // namespace
}  // namespace urun_it
