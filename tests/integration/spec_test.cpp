// `spec`: the generated config.json, as root and with --rootless.
#include "harness.hpp"

namespace urun_it {
namespace {

class Spec : public IntegrationTest {};

TEST_P(Spec, GeneratesUsableConfig) {
  std::string d = make_host_dir("spec-out");
  std::vector<std::string> args = {"spec", "--bundle", d};
  if (rootless()) args.push_back("--rootless");
  Result r = rt().run(args, RunOptions{.cwd = "/"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  Json c = Json::parse(read_file(d + "/config.json"));
  EXPECT_TRUE(c["ociVersion"].is_string());
  EXPECT_TRUE(c["process"]["args"].is_array() && !c["process"]["args"].empty()) << c.dump(2);
  EXPECT_EQ(c["root"].value("path", ""), "rootfs");
  bool has_mount_ns = false, has_user_ns = false;
  for (const auto& ns : c["linux"]["namespaces"]) {
    has_mount_ns |= ns.value("type", "") == "mount";
    has_user_ns |= ns.value("type", "") == "user";
  }
  EXPECT_TRUE(has_mount_ns) << c.dump(2);
  if (rootless()) {
    // As crun's: a user namespace without mappings; the runtime maps the caller to 0 and its
    // subordinate ids from 1 (Userns tests check the maps).
    EXPECT_TRUE(has_user_ns) << c.dump(2);
    if (!is_runc()) {
      EXPECT_FALSE(c["linux"].contains("uidMappings")) << c.dump(2);
      EXPECT_FALSE(c["linux"].contains("gidMappings")) << c.dump(2);
      // Unlike crun's: a network namespace that urun connects with slirp4netns, so the run
      // below starts (and stops) the helper (Network tests check the network itself).
      bool has_net_ns = false;
      for (const auto& ns : c["linux"]["namespaces"])
        has_net_ns |= ns.value("type", "") == "network" && !ns.contains("path");
      EXPECT_TRUE(has_net_ns) << c.dump(2);
      EXPECT_EQ(c["annotations"].value("run.urun.network", ""), "slirp4netns") << c.dump(2);
    }
  }

  // The generated config runs once its rootfs path is filled in.
  c["root"] = {{"path", world().rootfs()}, {"readonly", true}};
  c["process"]["terminal"] = false;
  c["process"]["args"] = {"echo", "spec-ok"};
  c["process"]["env"].push_back(token());
  // Without a tun device (a kernel without CONFIG_TUN) the helper cannot start.
  if (c.contains("annotations") && !path_exists("/dev/net/tun"))
    c["annotations"]["run.urun.network"] = "none";
  write_file(d + "/config.json", c.dump());
  Result run = rt().run({"run", "--bundle", d, "from-spec"});
  EXPECT_EQ(run.exit_code, 0) << run.describe();
  EXPECT_EQ(run.out, "spec-ok\n");
}

TEST_P(Spec, RefusesToOverwrite) {
  std::string d = make_host_dir("spec-twice");
  write_file(d + "/config.json", "{\"keep\": true}");
  Result r = rt().run({"spec"}, RunOptions{.cwd = d});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err_lines().size(), 1u) << r.describe();
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.describe();
  EXPECT_EQ(read_file(d + "/config.json"), "{\"keep\": true}");
}

URUN_IT_INSTANTIATE(Spec);

}  // namespace
}  // namespace urun_it
