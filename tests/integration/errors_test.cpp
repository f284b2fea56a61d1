// Error paths: each must fail with one line on stderr naming the culprit and leave nothing behind.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "harness.hpp"

namespace urun_it {
namespace {

class Errors : public IntegrationTest {};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

TEST_P(Errors, MissingConfig) {
  std::string empty = make_host_dir("empty-bundle");
  Result r = rt().run({"create", "--bundle", empty, "nocfg"});
  expect_clean_failure(r, "config.json");
}

TEST_P(Errors, MalformedConfig) {
  Bundle b = make_bundle();
  write_file(b.path("config.json"),
             "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {\n    \"args\": [\n");
  Result r = create(b, "badjson");
  expect_clean_failure(r, "config.json");
  if (!is_runc()) {
    // runc only says "unexpected end of JSON input"; crun and urun give the position.
    std::string msg = lower(r.err);
    EXPECT_NE(msg.find("line"), std::string::npos) << r.err;
    EXPECT_NE(msg.find("column"), std::string::npos) << r.err;
  }
}

TEST_P(Errors, ConfigWithWrongType) {
  Bundle b = make_bundle();
  b.config["process"]["args"] = "sh";  // must be an array
  b.save();
  Result r = create(b, "badtype");
  expect_clean_failure(r, "args");
}

TEST_P(Errors, EmptyArgs) {
  Bundle b = make_bundle();
  b.config["process"]["args"] = Json::array();
  b.save();
  Result r = create(b, "noargs");
  expect_clean_failure(r, "args");
}

TEST_P(Errors, MissingExecutable) {
  Bundle b = make_bundle();
  b.set_args({"/no/such/binary"});
  b.save();
  Result r = run_container(b, "noexe");
  expect_clean_failure(r, "/no/such/binary");
}

TEST_P(Errors, UnknownContainer) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"state", "nosuch"},
                                               {"start", "nosuch"},
                                               {"kill", "nosuch", "KILL"},
                                               {"delete", "nosuch"}}) {
    SCOPED_TRACE(args[0]);
    Result r = rt().run(args);
    expect_clean_failure(r, "nosuch");
  }
}

TEST_P(Errors, DuplicateId) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "dup"));
  pid_t pid = rt().state("dup").value("pid", 0);
  Result again = create(b, "dup");
  EXPECT_NE(again.exit_code, 0) << again.describe();
  EXPECT_EQ(again.err_lines().size(), 1u) << again.describe();
  if (!is_runc()) {  // runc: "container with given ID already exists"
    EXPECT_NE(again.err.find("dup"), std::string::npos) << again.describe();
  }
  // The first container is untouched.
  EXPECT_EQ(rt().status("dup"), "created");
  EXPECT_EQ(rt().state("dup").value("pid", 0), pid);
  EXPECT_TRUE(pid_alive(pid));
  EXPECT_EQ(state_entries(), std::vector<std::string>{"dup"});
}

TEST_P(Errors, SecondStart) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "s2"));
  ASSERT_RUN_OK(rt().run({"start", "s2"}));
  Result r = rt().run({"start", "s2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err_lines().size(), 1u) << r.describe();
  if (!is_runc()) {
    EXPECT_NE(r.err.find("s2"), std::string::npos) << r.describe();
  }
}

TEST_P(Errors, DeleteRunningWithoutForce) {
  Bundle b = make_bundle();
  b.set_args({"sleep", "1000"});
  b.save();
  ASSERT_RUN_OK(create(b, "d1"));
  ASSERT_RUN_OK(rt().run({"start", "d1"}));
  Result r = rt().run({"delete", "d1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err_lines().size(), 1u) << r.describe();
  EXPECT_NE(r.err.find("d1"), std::string::npos) << r.describe();
  EXPECT_EQ(rt().status("d1"), "running");
}

TEST_P(Errors, BadIds) {
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.save();
  for (const std::string& id :
       {std::string("../x"), std::string("a/b"), std::string(".."), std::string(300, 'a')}) {
    SCOPED_TRACE("id " + id.substr(0, 20));
    Result r = create(b, id);
    expect_clean_failure(r, id.substr(0, 20));
    EXPECT_FALSE(path_exists(dir() + "/x")) << "the id escaped the state dir";
    EXPECT_FALSE(path_exists(dir() + "/state/a"));
  }
}

TEST_P(Errors, MissingRootfs) {
  Bundle b = make_bundle();
  b.config["root"]["path"] = dir() + "/no-rootfs";
  b.save();
  Result r = create(b, "norootfs");
  expect_clean_failure(r, "no-rootfs");
}

TEST_P(Errors, InvalidMountType) {
  Bundle b = make_bundle();
  b.add_mount({{"destination", "/mnt/a"}, {"type", "nosuchfs"}, {"source", "none"}});
  b.save();
  Result r = create(b, "badmount");
  expect_clean_failure(r, "/mnt/a");
}

// A mount destination that is a symlink in the rootfs pointing outside must be resolved inside
// the rootfs: nothing may be mounted or written on the host path.
TEST_P(Errors, SymlinkMountDestinationStaysInRootfs) {
  std::string host = make_host_dir("hostdir-evil");
  write_file(host + "/marker", "host\n");
  auto before = host_mounts_under(host);
  Bundle b = make_bundle(BundleOptions{.writable_rootfs = true});
  ASSERT_EQ(::symlink(host.c_str(), (b.rootfs + "/evil").c_str()), 0);
  // The same escape through a relative link with too many `..`.
  std::string rel = "../../../../../../../../..";
  rel += host;
  ASSERT_EQ(::symlink(rel.c_str(), (b.rootfs + "/mnt/evil2").c_str()), 0);
  ::lchown((b.rootfs + "/evil").c_str(), identity().uid, identity().gid);
  ::lchown((b.rootfs + "/mnt/evil2").c_str(), identity().uid, identity().gid);

  for (const std::string dest : {"/evil", "/mnt/evil2"}) {
    SCOPED_TRACE(dest);
    Bundle& bb = b;
    bb.config["mounts"].push_back(
        {{"destination", dest}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
    bb.sh("touch " + dest + "/pwned; ls " + dest);
    bb.save();
    std::string id = dest == "/evil" ? "evil" : "evil2";
    Result r = run_container(bb, id);
    if (r.exit_code == 0) {
      // Resolved inside the rootfs: the container saw an empty tmpfs (no host marker).
      EXPECT_EQ(r.out.find("marker"), std::string::npos) << r.describe();
      rt().run({"delete", "--force", id});
    } else {
      expect_clean_failure(r, dest, false);
    }
    EXPECT_FALSE(path_exists(host + "/pwned")) << "the container wrote into the host dir";
    EXPECT_EQ(read_file(host + "/marker"), "host\n");
    EXPECT_EQ(host_mounts_under(host), before) << "something got mounted on the host dir";
    bb.config["mounts"].erase(bb.config["mounts"].size() - 1);
  }
}

URUN_IT_INSTANTIATE(Errors);

}  // namespace
}  // namespace urun_it
