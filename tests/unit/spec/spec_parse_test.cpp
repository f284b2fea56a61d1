#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "in_child.hpp"
#include "spec/spec.hpp"

namespace {

using nlohmann::json;
using urun::spec::Spec;

// Every field the model knows, in the exact shape to_json() emits, so that
// to_json(parse(kFull)) must reproduce it member for member.
const char* const kFull = R"({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1000, "gid": 100, "umask": 18, "additionalGids": [5, 6], "username": "joe"},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/home/joe",
    "capabilities": {
      "bounding": ["CAP_KILL", "CAP_CHOWN"],
      "effective": ["CAP_KILL"],
      "inheritable": [],
      "permitted": ["CAP_KILL", "CAP_CHOWN"],
      "ambient": ["CAP_KILL"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024}],
    "noNewPrivileges": true,
    "apparmorProfile": "urun-default",
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "oomScoreAdj": -500,
    "scheduler": {"policy": "SCHED_OTHER", "nice": 5},
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4}
  },
  "root": {"path": "/var/lib/bundle/rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/pre", "args": ["pre", "x"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/usr/bin/cr"}],
    "createContainer": [{"path": "/usr/bin/cc"}],
    "startContainer": [{"path": "/usr/bin/sc"}],
    "poststart": [{"path": "/usr/bin/ps"}],
    "poststop": [{"path": "/usr/bin/stop", "timeout": 1}]
  },
  "annotations": {"org.example.key": "value", "run.oci.keep_original_groups": "1"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1},
                    {"containerID": 1, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "timeOffsets": {"boottime": {"secs": -3600, "nanosecs": 0},
                    "monotonic": {"secs": 86400, "nanosecs": 500}},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229,
                 "fileMode": 438, "uid": 0, "gid": 0},
                {"type": "p", "path": "/dev/fifo", "major": 0, "minor": 0}],
    "cgroupsPath": "/urun/box",
    "resources": {"memory": {"limit": 536870912}, "pids": {"limit": 100}},
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]},
    "personality": {"domain": "LINUX32"},
    "intelRdt": {"closID": "guaranteed_group"}
  }
})";

std::string error_of(std::string_view text) {
  try {
    urun::spec::parse(text);
  } catch (const urun::Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Parses a minimal valid document with `patch` merged in (RFC 7386, so a null
// member removes a key).
// The message without the "config.json: " every parse() error starts with.
std::string error_with(const json& patch) {
  json j = {
      {"ociVersion", "1.0.0"}, {"process", {{"args", {"sh"}}}}, {"root", {{"path", "rootfs"}}}};
  j.merge_patch(patch);
  std::string msg = error_of(j.dump());
  const std::string prefix = "config.json: ";
  if (msg.rfind(prefix, 0) != 0) return "(no config.json prefix) " + msg;
  return msg.substr(prefix.size());
}

TEST(SpecParse, FullConfigFieldsAreRead) {
  Spec s = urun::spec::parse(kFull);
  EXPECT_EQ(s.oci_version, "1.2.0");
  ASSERT_TRUE(s.process.has_value());
  const auto& p = *s.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size.has_value());
  EXPECT_EQ(p.console_size->height, 25u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 100u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(p.cwd, "/home/joe");
  ASSERT_TRUE(p.capabilities.has_value());
  EXPECT_EQ(p.capabilities->bounding, (std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"}));
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].hard, UINT64_MAX);
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.oom_score_adj, -500);
  ASSERT_TRUE(p.scheduler.has_value());
  EXPECT_EQ(p.scheduler->nice, 5);
  ASSERT_TRUE(p.io_priority.has_value());
  EXPECT_EQ(p.io_priority->io_class, "IOPRIO_CLASS_BE");
  EXPECT_EQ(s.root.path, "/var/lib/bundle/rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "box");
  EXPECT_EQ(s.domainname, "example.org");
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[1].type, "");
  EXPECT_EQ(s.mounts[1].source, "/srv/data");
  EXPECT_EQ(s.mounts[1].uid_mappings, (std::vector<urun::spec::IdMapping>{{0, 100000, 65536}}));
  ASSERT_EQ(s.hooks.prestart.size(), 1u);
  EXPECT_EQ(s.hooks.prestart[0].timeout, 5);
  EXPECT_EQ(s.hooks.prestart[0].args, (std::vector<std::string>{"pre", "x"}));
  EXPECT_EQ(s.hooks.create_runtime.at(0).path, "/usr/bin/cr");
  EXPECT_EQ(s.hooks.start_container.at(0).path, "/usr/bin/sc");
  ASSERT_NE(s.annotation("org.example.key"), nullptr);
  EXPECT_EQ(*s.annotation("org.example.key"), "value");
  ASSERT_TRUE(s.linux.has_value());
  const auto& l = *s.linux;
  ASSERT_NE(l.find_namespace("network"), nullptr);
  EXPECT_EQ(l.find_namespace("network")->path, "/run/netns/x");
  EXPECT_EQ(l.find_namespace("user"), nullptr);
  EXPECT_EQ(l.uid_mappings.size(), 2u);
  EXPECT_EQ(l.uid_mappings[1], (urun::spec::IdMapping{1, 100000, 65536}));
  EXPECT_EQ(l.time_offsets.at("boottime").secs, -3600);
  EXPECT_EQ(l.time_offsets.at("monotonic").nanosecs, 500u);
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].file_mode, 438u);
  EXPECT_FALSE(l.devices[1].file_mode.has_value());
  EXPECT_EQ(l.cgroups_path, "/urun/box");
  EXPECT_EQ(l.resources["pids"]["limit"], 100);
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(l.seccomp["defaultAction"], "SCMP_ACT_ALLOW");
  ASSERT_TRUE(l.personality.has_value());
  EXPECT_EQ(l.personality->domain, "LINUX32");
  EXPECT_EQ(l.intel_rdt["closID"], "guaranteed_group");
}

TEST(SpecParse, FullConfigRoundTripsExactly) {
  json original = json::parse(kFull);
  Spec s = urun::spec::parse(kFull);
  json emitted = urun::spec::to_json(s);
  EXPECT_EQ(emitted, original) << "diff: " << json::diff(original, emitted).dump();
  // And again through the const-document path.
  EXPECT_EQ(urun::spec::to_json(urun::spec::from_json(emitted)), original);
}

TEST(SpecParse, FromJsonDoesNotModifyTheCallersDocument) {
  const json original = json::parse(kFull);
  json copy = original;
  urun::spec::from_json(copy);
  EXPECT_EQ(copy, original);
}

TEST(SpecParse, MinimalConfigLeavesOptionalFieldsEmpty) {
  Spec s = urun::spec::parse(R"({"ociVersion": "1.0.0", "process": {"args": ["sh"]}})");
  ASSERT_TRUE(s.process.has_value());
  EXPECT_FALSE(s.process->capabilities.has_value());
  EXPECT_FALSE(s.process->console_size.has_value());
  EXPECT_FALSE(s.process->oom_score_adj.has_value());
  EXPECT_FALSE(s.process->scheduler.has_value());
  EXPECT_FALSE(s.process->io_priority.has_value());
  EXPECT_FALSE(s.process->exec_cpu_affinity.has_value());
  EXPECT_EQ(s.process->cwd, "/");
  EXPECT_FALSE(s.linux.has_value());
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_TRUE(s.annotations.empty());
  // An absent root is left empty so that validate() can reject it.
  EXPECT_EQ(s.root.path, "");

  json out = urun::spec::to_json(s);
  EXPECT_FALSE(out.contains("linux"));
  EXPECT_FALSE(out.contains("hooks"));
  EXPECT_FALSE(out.contains("mounts"));
  EXPECT_FALSE(out["process"].contains("capabilities"));
  EXPECT_FALSE(out["process"].contains("noNewPrivileges"));
  EXPECT_FALSE(out["process"].contains("oomScoreAdj"));
}

TEST(SpecParse, UnknownFieldsAreIgnored) {
  Spec s = urun::spec::parse(R"({
    "ociVersion": "1.0.0", "platform": {"os": "linux"}, "windows": 7,
    "process": {"args": ["sh"], "commandLine": 3, "user": {"uid": 1, "gid": 2, "sid": []}},
    "linux": {"futureField": {"mode": 1}, "netDevices": {}},
    "mounts": [{"destination": "/x", "future": true}]
  })");
  EXPECT_EQ(s.process->user.uid, 1u);
  ASSERT_EQ(s.mounts.size(), 1u);
  EXPECT_FALSE(urun::spec::to_json(s).contains("platform"));
}

TEST(SpecParse, NullMeansAbsent) {
  Spec s = urun::spec::parse(
      R"({"ociVersion": "1.0.0", "process": {"args": ["sh"], "env": null}, "mounts": null,
          "linux": {"namespaces": null, "resources": null}})");
  EXPECT_TRUE(s.process->env.empty());
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_TRUE(s.linux->namespaces.empty());
  EXPECT_TRUE(s.linux->resources.is_null());
}

TEST(SpecParse, MalformedJsonReportsLineAndColumn) {
  // Line 3, column 14 is the `x` of the bad literal.
  std::string msg = error_of("{\n  \"ociVersion\": \"1.0.0\",\n  \"process\": x\n}");
  EXPECT_EQ(msg.rfind("config.json: malformed JSON at line 3, column 14: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("syntax error"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("[json.exception"), std::string::npos) << msg;

  msg = error_of("{\"a\": 1,");
  EXPECT_EQ(msg.rfind("config.json: malformed JSON at line 1, column 9: ", 0), 0u) << msg;
  msg = error_of("");
  EXPECT_EQ(msg.rfind("config.json: malformed JSON at line 1, column 1: ", 0), 0u) << msg;
}

TEST(SpecParse, WrongTypesNameThePath) {
  EXPECT_EQ(error_of("[]"), "config.json: must be a JSON object");
  EXPECT_EQ(error_with({{"ociVersion", 1}}), "ociVersion: must be a string");
  EXPECT_EQ(error_with({{"process", {{"args", "sh"}}}}),
            "process.args: must be an array of strings");
  EXPECT_EQ(error_with({{"process", {{"args", {"sh", 3}}}}}), "process.args[1]: must be a string");
  EXPECT_EQ(error_with({{"process", {{"terminal", "yes"}}}}),
            "process.terminal: must be a boolean");
  EXPECT_EQ(error_with({{"process", {{"user", {{"uid", -1}}}}}}),
            "process.user.uid: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_with({{"process", {{"user", {{"gid", 4294967296}}}}}}),
            "process.user.gid: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_with({{"process", {{"user", {{"additionalGids", {1, 2.5}}}}}}}),
            "process.user.additionalGids[1]: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_with({{"process", {{"capabilities", {"CAP_KILL"}}}}}),
            "process.capabilities: must be an object");
  EXPECT_EQ(error_with({{"process", {{"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 1}}}}}}}),
            "process.rlimits[0].hard: is required");
  EXPECT_EQ(error_with({{"process",
                         {{"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 1}, {"hard", -2}}}}}}}),
            "process.rlimits[0].hard: must be an unsigned 64-bit integer");
  EXPECT_EQ(error_with({{"process", {{"oomScoreAdj", 3000000000}}}}),
            "process.oomScoreAdj: must be a 32-bit integer");
  EXPECT_EQ(error_with({{"process", {{"scheduler", "fifo"}}}}),
            "process.scheduler: must be an object");
  EXPECT_EQ(error_with({{"root", {{"readonly", 1}}}}), "root.readonly: must be a boolean");
  EXPECT_EQ(
      error_with(
          {{"mounts", {{{"destination", "/a"}}, {{"destination", "/b"}}, {{"destination", 7}}}}}),
      "mounts[2].destination: must be a string");
  EXPECT_EQ(error_with({{"mounts", {{{"type", "tmpfs"}}}}}), "mounts[0].destination: is required");
  EXPECT_EQ(error_with({{"mounts", {{"destination", "/a"}}}}), "mounts: must be an array");
  EXPECT_EQ(error_with({{"hooks", {{"poststop", {{{"path", "/x"}, {"timeout", "5"}}}}}}}),
            "hooks.poststop[0].timeout: must be a 32-bit integer");
  EXPECT_EQ(error_with({{"annotations", {{"a", 1}}}}), "annotations[\"a\"]: must be a string");
  EXPECT_EQ(error_with({{"linux",
                         {{"uidMappings", {{{"containerID", 0}, {"hostID", 1}, {"size", -1}}}}}}}),
            "linux.uidMappings[0].size: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_with({{"linux", {{"gidMappings", {{{"containerID", 0}, {"size", 1}}}}}}}),
            "linux.gidMappings[0].hostID: is required");
  EXPECT_EQ(error_with({{"linux", {{"namespaces", {{{"path", "/x"}}}}}}}),
            "linux.namespaces[0].type: is required");
  EXPECT_EQ(error_with({{"linux", {{"sysctl", {{"net.ipv4.ip_forward", 1}}}}}}),
            "linux.sysctl[\"net.ipv4.ip_forward\"]: must be a string");
  EXPECT_EQ(error_with({{"linux", {{"timeOffsets", {{"monotonic", {{"secs", 1.5}}}}}}}}),
            "linux.timeOffsets[\"monotonic\"].secs: must be a 64-bit integer");
  EXPECT_EQ(
      error_with(
          {{"linux", {{"devices", {{{"type", "c"}, {"path", "/dev/x"}, {"fileMode", "0666"}}}}}}}),
      "linux.devices[0].fileMode: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_with({{"linux", {{"seccomp", {1, 2}}}}}), "linux.seccomp: must be an object");
  EXPECT_EQ(error_with({{"linux", "x"}}), "linux: must be an object");
}

// A number JSON allows but no C type holds (1e400) is refused by the JSON parser itself: the
// message still names the document and the path, never the library's own words.
TEST(SpecParse, NumbersOutOfRangeNameThePath) {
  std::string msg = error_of(R"({"process": {"user": {"uid": 1e400}}})");
  EXPECT_EQ(msg.rfind("config.json: process.user.uid: number 1e400 is out of range", 0), 0u) << msg;
  EXPECT_EQ(msg.find("json.exception"), std::string::npos) << msg;
  msg = error_of(R"({"process": {"user": {"additionalGids": [1, -2e999]}}})");
  EXPECT_EQ(
      msg.rfind("config.json: process.user.additionalGids[1]: number -2e999 is out of range", 0),
      0u)
      << msg;
  msg = error_of(R"({"linux": {"resources": {"memory": {"limit": 1E+500}}}})");
  EXPECT_EQ(
      msg.rfind("config.json: linux.resources.memory.limit: number 1E+500 is out of range", 0), 0u)
      << msg;
  // A key that is not a plain word is quoted, as the parser's own paths do.
  msg = error_of(R"({"linux": {"sysctl": {"net.core.x": 1e400}}})");
  EXPECT_EQ(msg.rfind("config.json: linux.sysctl[\"net.core.x\"]: number 1e400 is out of range", 0),
            0u)
      << msg;
  // It says where in the text, too.
  EXPECT_NE(error_of("{\n\"process\": {\"user\": {\"uid\": 1e400}}}").find("line 2"),
            std::string::npos);

  // Integers the parser holds but the field does not: the path, from the typed reader.
  EXPECT_EQ(error_of(R"({"process": {"user": {"uid": 1099511627776}}})"),
            "config.json: process.user.uid: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_of(R"({"process": {"user": {"uid": -1}}})"),
            "config.json: process.user.uid: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_of(R"({"process": {"user": {"uid": 1.5}}})"),
            "config.json: process.user.uid: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_of(R"({"process": {"user": {"uid": 100000000000000000000000}}})"),
            "config.json: process.user.uid: must be an unsigned 32-bit integer");
  EXPECT_EQ(error_of(R"({"process": {"rlimits": [{"type": "RLIMIT_CPU", "soft": 1,
                                                   "hard": 18446744073709551616}]}})"),
            "config.json: process.rlimits[0].hard: must be an unsigned 64-bit integer");
}

// Copying, printing or comparing a JSON value recurses once per level: a document nested
// deeper than any config needs is refused while it is parsed, before anything walks it.
TEST(SpecParse, DeepNestingIsRefused) {
  const size_t depth = 100000;
  std::string text = R"({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "x": )" +
                     std::string(depth, '[') + std::string(depth, ']') + "}}}";
  std::string msg = error_of(text);
  EXPECT_EQ(msg.rfind("config.json: linux.seccomp.x[0][0]", 0), 0u) << msg.substr(0, 200);
  EXPECT_NE(msg.find("nested deeper than"), std::string::npos) << msg.substr(0, 200);
  EXPECT_LT(msg.size(), 200u) << "the path is shortened";
  // Nesting a config really has (and some to spare) is fine.
  std::string fine =
      R"({"ociVersion": "1.0.0", "x": )" + std::string(30, '[') + std::string(30, ']') + "}";
  EXPECT_EQ(error_of(fine), "<no error>");
}

TEST(SpecParse, ProcessFromJsonUsesThePrefix) {
  json p = {{"args", {"ls"}}, {"cwd", "/tmp"}, {"terminal", 1}};
  try {
    urun::spec::process_from_json(p, "process.json");
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(), "process.json.terminal: must be a boolean");
  }
  try {
    urun::spec::process_from_json(p, "");
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_STREQ(e.what(), "terminal: must be a boolean");
  }
  p["terminal"] = true;
  auto proc = urun::spec::process_from_json(p);
  EXPECT_EQ(proc.args, (std::vector<std::string>{"ls"}));
  EXPECT_EQ(proc.cwd, "/tmp");
  EXPECT_EQ(urun::spec::process_to_json(proc)["cwd"], "/tmp");
  EXPECT_EQ(urun::spec::process_from_json(urun::spec::process_to_json(proc)).args, proc.args);
}

class SpecParseFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/urun-spec-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::remove((dir_ + "/config.json").c_str());
    rmdir(dir_.c_str());
  }
  std::string write(const std::string& text) {
    std::string path = dir_ + "/config.json";
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(SpecParseFile, ReadsAndNamesTheFileInErrors) {
  std::string path = write(kFull);
  EXPECT_EQ(urun::spec::parse_file(path).hostname, "box");

  write("{\n\n   ]");
  try {
    urun::spec::parse_file(path);
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    std::string want = "load `" + path + "`: malformed JSON at line 3, column 4: ";
    EXPECT_EQ(std::string(e.what()).rfind(want, 0), 0u) << e.what();
  }

  write(R"({"process": {"cwd": 5}})");
  try {
    urun::spec::parse_file(path);
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "load `" + path + "`: process.cwd: must be a string");
  }
}

// A FIFO (or device, socket, directory) where the config should be is refused at once: a
// FIFO nobody writes to would block the runtime for ever, a device could act on its open.
TEST_F(SpecParseFile, NonRegularFilesAreRefusedWithoutBlocking) {
  std::string fifo = dir_ + "/fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int rc = urun_test::in_child([&] {
    ::alarm(5);  // the old code blocked here for ever
    try {
      urun::spec::parse_file(fifo);
    } catch (const urun::Error& e) {
      std::string msg = e.what();
      if (msg.find(fifo) == std::string::npos || msg.find("FIFO") == std::string::npos ||
          msg.find("not a regular file") == std::string::npos) {
        std::fprintf(stderr, "message: %s\n", msg.c_str());
        return 2;
      }
      return 0;
    }
    return 1;
  });
  EXPECT_EQ(rc, 0) << "100 + SIGALRM (114): parse_file blocked on the FIFO";
  ::unlink(fifo.c_str());

  for (const char* path : {"/dev/null", "/tmp"}) {
    try {
      urun::spec::parse_file(path);
      ADD_FAILURE() << path << ": no error";
    } catch (const urun::Error& e) {
      EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
  }
}

// A config bigger than the bound is refused before it is read: the old code read 100 MB into
// memory (and more to parse it) before it found out.
TEST_F(SpecParseFile, OversizedFileIsRefusedBeforeItIsRead) {
  std::string path = dir_ + "/config.json";
  {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "{\"ociVersion\": \"1.0.0\"}", 24), 24);
    ASSERT_EQ(::ftruncate(fd, 100 << 20), 0);  // sparse: costs no disk
    ::close(fd);
  }
  int rc = urun_test::in_child([&] {
    rusage before{};
    ::getrusage(RUSAGE_SELF, &before);
    try {
      urun::spec::parse_file(path);
      return 1;
    } catch (const urun::Error& e) {
      std::string msg = e.what();
      rusage after{};
      ::getrusage(RUSAGE_SELF, &after);
      if (msg.find(path) == std::string::npos || msg.find("4 MiB") == std::string::npos ||
          e.code() != EFBIG) {
        std::fprintf(stderr, "message: %s\n", msg.c_str());
        return 2;
      }
      long grown_kib = after.ru_maxrss - before.ru_maxrss;
      if (grown_kib > 8 * 1024) {
        std::fprintf(stderr, "peak RSS grew by %ld KiB\n", grown_kib);
        return 3;
      }
      return 0;
    }
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(SpecParseFile, MissingFileKeepsErrno) {
  try {
    urun::spec::parse_file(dir_ + "/absent.json");
    FAIL() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("absent.json"), std::string::npos) << e.what();
  }
}

}  // namespace
