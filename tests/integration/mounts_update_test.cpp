// `urun mounts add|remove CONTAINER FILE` (crun 1.22) on a running container: the container
// sees a mount after add and no longer after remove; destinations are resolved inside its root;
// bad input is one clear error that changes nothing.
#include <sys/stat.h>
#include <unistd.h>

#include "harness.hpp"

namespace urun_it {
namespace {

class MountsUpdate : public IntegrationTest {
 protected:
  // A started container (writable rootfs, so destinations can be created) running sleep.
  Bundle start_sleeper(const std::string& id = "c1") {
    Bundle b = make_bundle({.writable_rootfs = true});
    b.set_args({"sleep", "1000"});
    b.save();
    Result c = create(b, id);
    EXPECT_EQ(c.exit_code, 0) << c.describe();
    Result s = rt().run({"start", id});
    EXPECT_EQ(s.exit_code, 0) << s.describe();
    return b;
  }
  // Writes `mounts` to a file the mode's identity can read; returns its path.
  std::string mounts_file(const Json& mounts, const std::string& name = "mounts.json") {
    std::string path = dir() + "/" + name;
    write_file(path, mounts.dump());
    EXPECT_EQ(::chown(path.c_str(), identity().uid, identity().gid), 0);
    return path;
  }
  Result mounts(const std::string& verb, const std::string& id, const std::string& file) {
    return rt().run({"mounts", verb, id, file});
  }
  Result in_container(const std::string& id, const std::string& script) {
    return rt().run({"exec", id, "sh", "-c", script});
  }
  // A failed call: one line on stderr naming `what`.
  void expect_error(const Result& r, const std::string& what) {
    EXPECT_NE(r.exit_code, 0) << r.describe();
    auto lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << r.describe();
    EXPECT_NE(lines[0].find(what), std::string::npos) << "want `" << what << "`\n" << r.describe();
  }
  std::string host_dir_with(const std::string& name, const std::string& content) {
    std::string d = make_host_dir(name);
    write_file(d + "/hello", content);
    return d;
  }
};

TEST_P(MountsUpdate, AddThenRemoveABindMount) {
  start_sleeper();
  std::string src = host_dir_with("src", "hello from the host\n");
  std::string file = mounts_file(Json::array({{{"destination", "/mnt/added/deep"},
                                               {"type", "bind"},
                                               {"source", src},
                                               {"options", {"rbind", "ro"}}}}));
  Result before = in_container("c1", "cat /mnt/added/deep/hello 2>/dev/null || echo absent");
  ASSERT_EQ(before.exit_code, 0) << before.describe();
  EXPECT_EQ(before.out, "absent\n");

  ASSERT_RUN_OK(mounts("add", "c1", file));
  Result seen = in_container(
      "c1", "cat /mnt/added/deep/hello; touch /mnt/added/deep/x 2>/dev/null || echo read-only");
  ASSERT_EQ(seen.exit_code, 0) << seen.describe();
  EXPECT_EQ(seen.out, "hello from the host\nread-only\n");
  // Nothing of it on the host.
  EXPECT_TRUE(host_mounts_under(dir() + "/bundle").empty());

  ASSERT_RUN_OK(mounts("remove", "c1", file));
  Result after = in_container("c1", "cat /mnt/added/deep/hello 2>/dev/null || echo absent");
  ASSERT_EQ(after.exit_code, 0) << after.describe();
  EXPECT_EQ(after.out, "absent\n");
  // Removing it again: nothing is mounted there any more.
  expect_error(mounts("remove", "c1", file), "nothing is mounted there");
  EXPECT_EQ(rt().status("c1"), "running");
}

TEST_P(MountsUpdate, AddATmpfs) {
  start_sleeper();
  std::string file = mounts_file(Json::array({{{"destination", "/mnt/t"},
                                               {"type", "tmpfs"},
                                               {"source", "tmpfs"},
                                               {"options", {"size=1m", "mode=700", "nosuid"}}}}));
  ASSERT_RUN_OK(mounts("add", "c1", file));
  Result r = in_container("c1", "grep ' /mnt/t ' /proc/mounts; stat -c %a /mnt/t");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.describe();
  EXPECT_EQ(lines[0].rfind("tmpfs /mnt/t tmpfs ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("nosuid"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("size=1024k"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "700");
  ASSERT_RUN_OK(mounts("remove", "c1", file));
  Result gone = in_container("c1", "grep -c ' /mnt/t ' /proc/mounts || true");
  EXPECT_EQ(trim(gone.out), "0") << gone.describe();
}

// A symlink in the container's rootfs that points "out of" it leads to a place inside it.
TEST_P(MountsUpdate, DestinationStaysInsideTheRoot) {
  Bundle b = start_sleeper();
  std::string outside = dir() + "/outside";
  ASSERT_EQ(
      ::symlink(("/../../../../../../.." + outside).c_str(), (b.rootfs + "/mnt/escape").c_str()),
      0);
  std::string src = host_dir_with("src", "inside\n");
  std::string file = mounts_file(Json::array({{{"destination", "/mnt/escape/sub"},
                                               {"type", "bind"},
                                               {"source", src},
                                               {"options", {"bind"}}}}));
  ASSERT_RUN_OK(mounts("add", "c1", file));
  EXPECT_FALSE(path_exists(outside)) << "the destination left the container's root";
  Result r = in_container("c1", "cat /mnt/escape/sub/hello");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "inside\n");
  EXPECT_TRUE(path_exists(b.rootfs + outside + "/sub")) << "created inside the rootfs";
  ASSERT_RUN_OK(mounts("remove", "c1", file));
}

// A mount with uidMappings/gidMappings is id-mapped as at create: root sees on-disk 0 as 1000
// (a container without a user namespace); an unprivileged user is refused, changing nothing.
TEST_P(MountsUpdate, AddAnIdmappedMount) {
  start_sleeper();
  std::string src = host_dir_with("src", "x\n");
  ASSERT_EQ(::chown((src + "/hello").c_str(), 0, 0), 0);
  // Rootless: host ids the user may map (its subordinate ids), so only the kernel refuses.
  const uint32_t host_uid = rootless() ? world().subuid().first : 1000;
  const uint32_t host_gid = rootless() ? world().subgid().first : 2000;
  Json m = {{"destination", "/mnt/idm"},
            {"type", "bind"},
            {"source", src},
            {"options", {"bind"}},
            {"uidMappings", {{{"containerID", 0}, {"hostID", host_uid}, {"size", 10}}}},
            {"gidMappings", {{{"containerID", 0}, {"hostID", host_gid}, {"size", 10}}}}};
  std::string file = mounts_file(Json::array({m}));
  Result r = mounts("add", "c1", file);
  if (rootless()) {
    expect_error(r, "only root on the host may id-map a mount of a host filesystem");
    Result none = in_container("c1", "ls /mnt/idm 2>/dev/null | wc -l");
    EXPECT_EQ(trim(none.out), "0") << none.describe();
    return;
  }
  if (r.exit_code != 0 && r.err.find("cannot make id-mapped mounts") != std::string::npos)
    GTEST_SKIP() << "the kernel or /tmp's filesystem cannot id-map: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  Result seen = in_container("c1", "stat -c '%u %g' /mnt/idm/hello");
  ASSERT_EQ(seen.exit_code, 0) << seen.describe();
  EXPECT_EQ(seen.out, "1000 2000\n");
  ASSERT_RUN_OK(mounts("remove", "c1", file));
}

// src-nofollow and dest-nofollow work on a running container as at create.
TEST_P(MountsUpdate, NofollowOptions) {
  Bundle b = start_sleeper();
  std::string d = host_dir_with("host", "secret\n");
  ASSERT_EQ(::symlink((d + "/hello").c_str(), (d + "/link").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/target", (b.rootfs + "/etc/link").c_str()), 0);
  write_file(b.rootfs + "/etc/target", "original\n");
  std::string file = mounts_file(Json::array({{{"destination", "/mnt/nf"},
                                               {"type", "bind"},
                                               {"source", d + "/link"},
                                               {"options", {"bind", "src-nofollow"}}},
                                              {{"destination", "/etc/link"},
                                               {"type", "bind"},
                                               {"source", d + "/hello"},
                                               {"options", {"bind", "dest-nofollow"}}}}));
  ASSERT_RUN_OK(mounts("add", "c1", file));
  Result r = in_container("c1",
                          "readlink /mnt/nf; cat /mnt/nf 2>/dev/null || echo unreadable;"
                          " cat /etc/link /etc/target");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(split_lines(r.out),
            (std::vector<std::string>{d + "/hello", "unreadable", "secret", "original"}))
      << r.describe();
  ASSERT_RUN_OK(mounts("remove", "c1", file));
  Result after = in_container("c1", "cat /etc/link; [ -L /etc/link ] && echo link");
  EXPECT_EQ(after.out, "original\nlink\n") << after.describe();
}

TEST_P(MountsUpdate, AllOrNothing) {
  start_sleeper();
  std::string src = host_dir_with("src", "x\n");
  std::string file = mounts_file(Json::array(
      {{{"destination", "/mnt/first"}, {"type", "bind"}, {"source", src}, {"options", {"bind"}}},
       // Fails only when it is moved into place: a directory cannot cover a file.
       {{"destination", "/etc/passwd"},
        {"type", "bind"},
        {"source", src},
        {"options", {"bind"}}}}));
  expect_error(mounts("add", "c1", file), "/etc/passwd");
  std::string missing = mounts_file(Json::array({{{"destination", "/mnt/first"},
                                                  {"type", "bind"},
                                                  {"source", src},
                                                  {"options", {"bind"}}},
                                                 {{"destination", "/mnt/second"},
                                                  {"type", "bind"},
                                                  {"source", dir() + "/missing"},
                                                  {"options", {"bind"}}}}),
                                    "missing.json");
  expect_error(mounts("add", "c1", missing), "/missing");
  Result r = in_container("c1", "cat /mnt/first/hello 2>/dev/null || echo absent");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, "absent\n");
}

TEST_P(MountsUpdate, BadInputIsAClearError) {
  start_sleeper();
  std::string src = host_dir_with("src", "x\n");
  expect_error(mounts("add", "c1", mounts_file(Json::object(), "obj.json")),
               "must be an array of mounts");
  expect_error(mounts("add", "c1", mounts_file(Json::array({{{"type", "tmpfs"}}}), "nodest.json")),
               "mounts[0].destination: is required");
  expect_error(mounts("add", "c1", mounts_file(Json::array(), "empty.json")), "no mounts given");
  expect_error(mounts("add", "c1", dir() + "/nonexistent.json"), "nonexistent.json");
  {
    std::string path = dir() + "/broken.json";
    write_file(path, "[{");
    ::chown(path.c_str(), identity().uid, identity().gid);
    expect_error(mounts("add", "c1", path), "broken.json");
  }
  expect_error(
      mounts("add", "c1",
             mounts_file(
                 Json::array({{{"destination", "/mnt/p"}, {"type", "proc"}, {"source", "proc"}}}),
                 "proc.json")),
      "cannot be added to a running container");
  expect_error(mounts("add", "c1",
                      mounts_file(Json::array({{{"destination", "/proc/sys"},
                                                {"type", "bind"},
                                                {"source", src},
                                                {"options", {"bind"}}}}),
                                  "insideproc.json")),
               "cannot be mounted on /proc or inside it");
  expect_error(
      mounts("add", "c1",
             mounts_file(Json::array({{{"destination", "/mnt/a"},
                                       {"type", "bind"},
                                       {"source", src},
                                       {"options", {"bind"}},
                                       {"uidMappings",
                                        {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}}}}),
                         "oneside.json")),
      "needs both uidMappings and gidMappings");
  std::string good = mounts_file(
      Json::array(
          {{{"destination", "/mnt/a"}, {"type", "bind"}, {"source", src}, {"options", {"bind"}}}}),
      "good.json");
  expect_error(mounts("add", "nosuch", good), "nosuch");
  expect_error(mounts("remove", "c1", good), "nothing is mounted there");
  expect_error(rt().run({"mounts", "frobnicate", "c1", good}), "frobnicate");
  EXPECT_EQ(rt().status("c1"), "running");
}

TEST_P(MountsUpdate, StoppedContainerIsRefused) {
  Bundle b = make_bundle();
  b.set_args({"true"});
  b.save();
  ASSERT_RUN_OK(create(b, "c1"));
  ASSERT_RUN_OK(rt().run({"start", "c1"}));
  EXPECT_EQ(rt().wait_status("c1", "stopped"), "stopped");
  std::string src = host_dir_with("src", "x\n");
  std::string file = mounts_file(Json::array(
      {{{"destination", "/mnt/a"}, {"type", "bind"}, {"source", src}, {"options", {"bind"}}}}));
  expect_error(mounts("add", "c1", file), "is stopped");
}

URUN_IT_INSTANTIATE(MountsUpdate);

}  // namespace
}  // namespace urun_it
