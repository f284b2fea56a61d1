// linux.netDevices: a host interface moved into the container's network namespace, renamed,
// with its permanent global addresses and its MTU, set up; gone from the runtime's namespace
// with the container (a veth is destroyed with the namespace it ends in: runtime-spec 1.3 has
// the runtime never move a device back); and the refusals.
//
// Safety: the host's interfaces are never touched. As root, every test runs the runtime inside
// `unshare -n`, a private network namespace where the test makes its veth pair. As the
// unprivileged user the "works" case runs the runtime as root of the user's own namespaces
// (`unshare -r -n`, as rootless Podman does), where the user may make and move interfaces;
// run directly as the user, the runtime cannot move any host interface (EPERM), which the error
// test shows with `lo` (which no one can move: the kernel keeps it in its namespace).
#include "harness.hpp"

namespace urun_it {
namespace {

constexpr const char* kAfter = "== runtime namespace after\n";

class NetDevices : public IntegrationTest {
 protected:
  Bundle net_bundle() {
    Bundle b = make_bundle();
    if (!b.has_namespace("network")) b.add_namespace("network");
    return b;
  }

  // Runs `run --bundle B id` after `setup` (a shell script) in a network namespace of its own
  // (as the user: with the user namespace that owns it), then prints kAfter and the links left
  // in that namespace once the container's namespace is gone.
  Result run_in_private_net(Bundle& b, const std::string& id, const std::string& setup) {
    if (rootless()) {
      // Root of the user's own namespace: the container's maps may only name that one id.
      const Json root_only = Json::array({{{"containerID", 0}, {"hostID", 0}, {"size", 1}}});
      b.config["linux"]["uidMappings"] = root_only;
      b.config["linux"]["gidMappings"] = root_only;
    }
    b.save();
    const std::string script =
        setup +
        "\n\"$0\" \"$@\"; rc=$?\n"
        // The kernel frees a network namespace (and destroys its veth) a little after its last
        // process has gone: wait for that after a run that moved it.
        "[ $rc = 0 ] && for i in $(seq 100); do\n"
        "  ip link show hv1 >/dev/null 2>&1 || break; sleep 0.05\n"
        "done\n"
        "printf '== runtime namespace after\\n'; ip -o link show\nexit $rc\n";
    std::vector<std::string> argv = {"unshare", "-n"};
    if (rootless()) argv = {"unshare", "-r", "-n"};
    for (const std::string& a :
         {std::string("sh"), std::string("-c"), script, world().runtime(), std::string("--root"),
          rt().state_root(), std::string("run"), std::string("--bundle"), b.dir, id})
      argv.push_back(a);
    Result r = run_as(identity(), argv, dir() + "/io",
                      RunOptions{.cwd = dir(), .timeout = std::chrono::seconds(30)});
    rt().run({"delete", "--force", id});
    return r;
  }

  static std::string veth_setup() {
    return "ip link add hv0 type veth peer name hv1 || exit 90\n"
           "ip link set hv0 mtu 1400 || exit 91\n"
           "ip addr add 10.99.0.1/24 dev hv0 || exit 92\n"
           // Host scope: not one the spec has moved.
           "ip addr add 127.0.0.9/8 dev hv0 || exit 93\n";
  }
};

TEST_P(NetDevices, MovedRenamedWithAddressesAndUp) {
  if (is_runc() && rootless()) GTEST_SKIP() << "runc refuses netDevices in rootless mode";
  Bundle b = net_bundle();
  b.config["linux"]["netDevices"] = {{"hv0", {{"name", "eth5"}}}};
  b.sh("ip -o addr show; echo ==links; ip -o link show");
  Result r = run_in_private_net(b, "nd", veth_setup());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  size_t after = r.out.find(kAfter);
  ASSERT_NE(after, std::string::npos) << r.describe();
  const std::string inside = r.out.substr(0, after), outside = r.out.substr(after);
  EXPECT_NE(inside.find("eth5    inet 10.99.0.1/24"), std::string::npos) << inside;
  EXPECT_EQ(inside.find("127.0.0.9"), std::string::npos) << "a host-scope address moved\n"
                                                         << inside;
  EXPECT_EQ(inside.find("hv0"), std::string::npos) << inside;
  std::string eth5;
  for (const auto& line : split_lines(inside.substr(inside.find("==links"))))
    if (line.find(": eth5") != std::string::npos) eth5 = line;
  ASSERT_FALSE(eth5.empty()) << inside;
  EXPECT_NE(eth5.find("mtu 1400"), std::string::npos) << eth5;
  EXPECT_NE(eth5.find(",UP"), std::string::npos) << "set up in the container\n" << eth5;
  // The veth went with the container's namespace, both ends; nothing was moved back.
  EXPECT_EQ(outside.find("hv0"), std::string::npos) << outside;
  EXPECT_EQ(outside.find("hv1"), std::string::npos) << outside;
  EXPECT_EQ(outside.find("eth5"), std::string::npos) << outside;
}

TEST_P(NetDevices, KeepsItsNameOrTakesATemplatesFirstFreeOne) {
  if (is_runc()) GTEST_SKIP() << "runc looks a template's name up and fails";
  Bundle b = net_bundle();
  b.config["linux"]["netDevices"] = {{"hv0", Json::object()}, {"hv2", {{"name", "ctr%d"}}}};
  b.sh("ip -o link show");
  Result r = run_in_private_net(
      b, "nd2", veth_setup() + "ip link add hv2 type veth peer name hv3 || exit 94\n");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::string inside = r.out.substr(0, r.out.find(kAfter));
  EXPECT_NE(inside.find(": hv0@"), std::string::npos) << inside;
  EXPECT_NE(inside.find(": ctr0@"), std::string::npos) << inside;
}

TEST_P(NetDevices, MissingDeviceIsRefusedBeforeAnythingIsMade) {
  Bundle b = net_bundle();
  b.config["linux"]["netDevices"] = {{"urun-nope0", Json::object()}};
  b.sh("echo container-ran");
  Result r = run_in_private_net(b, "nd", "");
  expect_clean_failure(r, "urun-nope0");
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos);
}

TEST_P(NetDevices, NeedsTheContainersOwnNetworkNamespace) {
  Bundle b = make_bundle();
  Json kept = Json::array();
  for (const auto& ns : b.config["linux"]["namespaces"])
    if (ns.value("type", "") != "network") kept.push_back(ns);
  b.config["linux"]["namespaces"] = kept;
  b.config["linux"]["netDevices"] = {{"hv0", Json::object()}};
  b.sh("echo container-ran");
  Result r = run_in_private_net(b, "nd", veth_setup());
  expect_clean_failure(r, "network namespace");
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos);
  // The device stayed where it was.
  EXPECT_NE(r.out.find(": hv0@"), std::string::npos) << r.out;
}

TEST_P(NetDevices, InvalidOrClashingNamesAreRefused) {
  for (const Json& devices : {Json{{"hv0", {{"name", "bad/name"}}}},
                              Json{{"hv0", {{"name", "eth0"}}}, {"hv1", {{"name", "eth0"}}}}}) {
    Bundle b = net_bundle();
    b.config["linux"]["netDevices"] = devices;
    b.sh("echo container-ran");
    Result r = run_in_private_net(b, "nd", veth_setup());
    expect_clean_failure(r, "linux.netDevices");
    EXPECT_EQ(r.out.find("container-ran"), std::string::npos);
    EXPECT_NE(r.out.find(": hv0@"), std::string::npos) << "the device must stay\n" << r.out;
    host_sh("rm -rf '" + b.dir + "'");
  }
}

// The kernel refuses to move `lo`; an unprivileged runtime may not move any host interface
// (it has no CAP_NET_ADMIN over the host's namespace): either way a clean failure naming the
// device, and nothing left behind.
TEST_P(NetDevices, AMoveTheKernelRefusesFailsCleanly) {
  Bundle b = net_bundle();
  b.config["linux"]["netDevices"] = {{"lo", {{"name", "lo9"}}}};
  b.sh("echo container-ran");
  Result r;
  if (rootless()) {
    b.save();
    r = run_container(b, "nd");
  } else {
    r = run_in_private_net(b, "nd", "");
  }
  expect_clean_failure(r, "`lo`");
  EXPECT_EQ(r.out.find("container-ran"), std::string::npos);
  if (!is_runc() && rootless()) {
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.describe();
  }
}

URUN_IT_INSTANTIATE(NetDevices);

}  // namespace
}  // namespace urun_it
