// `urun features` (container/features.hpp): valid against the runtime-spec 1.3 schema, and
// each list cross-checked against the code that applies it, both ways: nothing listed that
// urun does not apply, nothing applied that is not listed.
#include "container/features.hpp"

#include <gtest/gtest.h>
#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "criu/criu.hpp"
#include "json_schema.hpp"
#include "linux/capabilities.hpp"
#include "linux/mounts/mounts.hpp"
#include "linux/namespaces.hpp"
#include "linux/seccomp/seccomp.hpp"
#include "spec/kernel_attrs.hpp"
#include "spec/spec.hpp"

namespace {

using nlohmann::json;
using urun::container::features;

const std::string kSchemaDir = std::string(URUN_SOURCE_DIR) + "/tests/schema/runtime-spec-1.3.0";

json features_json() { return json::parse(features().dump()); }

std::set<std::string> as_set(const json& array) {
  std::set<std::string> out;
  for (const auto& v : array) out.insert(v.get<std::string>());
  return out;
}

// An enum of the runtime-spec schema, e.g. defs-linux.json's SeccompAction.
std::vector<std::string> schema_enum(const std::string& file, const std::string& definition) {
  std::ifstream in(kSchemaDir + "/" + file);
  json j = json::parse(in);
  return j.at("definitions").at(definition).at("enum").get<std::vector<std::string>>();
}

bool throws(const std::function<void()>& f) {
  try {
    f();
  } catch (const urun::Error&) {
    return true;
  }
  return false;
}

TEST(Features, ValidAgainstTheRuntimeSpecSchema) {
  urun_test::JsonSchema schema(kSchemaDir, "features-schema.json");
  std::vector<std::string> errors = schema.validate(features_json());
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_TRUE(errors.empty()) << all;
}

// The validator itself finds what is wrong (else the test above could not fail).
TEST(Features, SchemaValidatorRejectsBrokenDocuments) {
  urun_test::JsonSchema schema(kSchemaDir, "features-schema.json");
  json f = features_json();
  f.erase("ociVersionMin");
  EXPECT_FALSE(schema.validate(f).empty());
  f = features_json();
  f["linux"]["namespaces"].push_back("bogus");
  EXPECT_FALSE(schema.validate(f).empty());
  f = features_json();
  f["linux"]["capabilities"].push_back("cap_lower");
  EXPECT_FALSE(schema.validate(f).empty());
  f = features_json();
  f["linux"]["seccomp"]["enabled"] = "yes";
  EXPECT_FALSE(schema.validate(f).empty());
  f = features_json();
  f["annotations"]["x"] = 1;
  EXPECT_FALSE(schema.validate(f).empty());
}

TEST(Features, VersionsAreOneZeroToOneThree) {
  json f = features_json();
  EXPECT_EQ(f["ociVersionMin"], "1.0.0");
  EXPECT_EQ(f["ociVersionMax"], "1.3.0");
}

TEST(Features, NamespacesAreTheSpecsAndEachIsApplied) {
  json f = features_json();
  std::set<std::string> listed = as_set(f["linux"]["namespaces"]);
  for (const auto& ns : listed) {
    int flag = urun::linux::namespace_flag(ns);
    EXPECT_NE(flag, 0) << ns << " listed but urun has no clone flag for it";
    EXPECT_STRNE(urun::linux::namespace_proc_name(flag), "?") << ns;
  }
  for (const auto& ns : schema_enum("defs-linux.json", "NamespaceType"))
    if (urun::linux::namespace_flag(ns) != 0) {
      EXPECT_TRUE(listed.count(ns)) << ns << " not listed";
    }
  EXPECT_EQ(listed.size(), 8u);
}

TEST(Features, CapabilitiesAreLibcapsAndEachResolves) {
  json f = features_json();
  std::set<std::string> listed = as_set(f["linux"]["capabilities"]);
  ASSERT_FALSE(listed.empty());
  for (const auto& cap : listed)
    EXPECT_GE(urun::linux::capability_from_name(cap, 63), 0) << cap << " listed but not applied";
  for (int v = 0; v <= CAP_LAST_CAP; ++v) {
    char* name = cap_to_name(v);
    std::string upper = name;
    cap_free(name);
    if (upper.empty() || !std::isalpha(static_cast<unsigned char>(upper[0]))) continue;  // unnamed
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    EXPECT_TRUE(listed.count(upper)) << upper << " known to libcap but not listed";
  }
  EXPECT_TRUE(listed.count("CAP_CHOWN"));
  EXPECT_TRUE(listed.count("CAP_SYS_ADMIN"));
}

// Each option listed is consumed by urun (never handed to the filesystem as data); each option
// urun consumes is listed.
TEST(Features, MountOptionsAreThoseUrunApplies) {
  json f = features_json();
  std::set<std::string> listed = as_set(f["mountOptions"]);
  for (const auto& o : listed) {
    auto parsed = urun::linux::parse_mount_options({o});
    EXPECT_EQ(parsed.data, "") << o << " listed but urun passes it to the filesystem";
    EXPECT_FALSE(urun::linux::is_ignored_mount_option(o)) << o << " listed but ignored";
  }
  // Words of crun's and mount(8)'s vocabulary: each one urun consumes must be listed.
  std::vector<std::string> words = {
      "idmap",         "ridmap",  "tmpcopyup", "notmpcopyup", "copy-symlink", "src-nofollow",
      "dest-nofollow", "bind",    "rbind",     "remount",     "private",      "rprivate",
      "shared",        "rshared", "slave",     "rslave",      "unbindable",   "runbindable",
      "sync",          "async",   "dirsync",   "mand",        "nomand",       "lazytime",
      "nolazytime",    "silent",  "loud"};
  for (const char* base : {"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
                           "nosymfollow", "symfollow", "nodiratime", "diratime", "relatime",
                           "norelatime", "noatime", "atime", "strictatime", "nostrictatime"}) {
    words.emplace_back(base);
    words.push_back(std::string("r") + base);  // every r$FLAG variant
  }
  for (const auto& w : words) {
    auto parsed = urun::linux::parse_mount_options({w});
    const bool applied = parsed.data.empty() && !urun::linux::is_ignored_mount_option(w);
    EXPECT_TRUE(!applied || listed.count(w)) << w << " applied but not listed";
  }
  for (const char* r :
       {"rro",       "rrw",         "rnosuid",      "rsuid",      "rnodev",       "rdev",
        "rnoexec",   "rexec",       "rnosymfollow", "rsymfollow", "rnodiratime",  "rdiratime",
        "rrelatime", "rnorelatime", "rnoatime",     "ratime",     "rstrictatime", "rnostrictatime",
        "idmap",     "ridmap",      "copy-symlink", "tmpcopyup"})
    EXPECT_TRUE(listed.count(r)) << r;
  EXPECT_TRUE(listed.count("src-nofollow"));
  EXPECT_TRUE(listed.count("dest-nofollow"));
}

TEST(Features, SeccompListsAreWhatTheFilterAccepts) {
  json s = features_json()["linux"]["seccomp"];
  EXPECT_EQ(s["enabled"], true);
  std::set<std::string> actions = as_set(s["actions"]), ops = as_set(s["operators"]),
                        archs = as_set(s["archs"]), flags = as_set(s["knownFlags"]);
  for (const auto& a : actions)
    EXPECT_FALSE(throws([&] { urun::linux::seccomp_action(a, std::nullopt, "x"); })) << a;
  for (const auto& o : ops)
    EXPECT_FALSE(throws([&] { urun::linux::seccomp_operator(o, "x"); })) << o;
  for (const auto& a : archs) EXPECT_FALSE(throws([&] { urun::linux::seccomp_arch(a, "x"); })) << a;
  for (const auto& fl : flags)
    EXPECT_FALSE(throws([&] { urun::linux::seccomp_flag(fl, "x"); })) << fl;
  for (const auto& a : schema_enum("defs-linux.json", "SeccompAction"))
    EXPECT_TRUE(throws([&] { urun::linux::seccomp_action(a, std::nullopt, "x"); }) ||
                actions.count(a))
        << a;
  for (const auto& o : schema_enum("defs-linux.json", "SeccompOperators"))
    EXPECT_TRUE(throws([&] { urun::linux::seccomp_operator(o, "x"); }) || ops.count(o)) << o;
  for (const auto& a : schema_enum("defs-linux.json", "SeccompArch"))
    EXPECT_TRUE(throws([&] { urun::linux::seccomp_arch(a, "x"); }) || archs.count(a)) << a;
  for (const auto& fl : schema_enum("defs-linux.json", "SeccompFlag"))
    EXPECT_TRUE(throws([&] { urun::linux::seccomp_flag(fl, "x"); }) || flags.count(fl)) << fl;
  EXPECT_TRUE(archs.count("SCMP_ARCH_X86_64"));
  for (const auto& fl : as_set(s["supportedFlags"])) EXPECT_TRUE(flags.count(fl)) << fl;
}

TEST(Features, HooksAreTheStagesTheParserReads) {
  json f = features_json();
  std::set<std::string> listed = as_set(f["hooks"]);
  EXPECT_EQ(listed.size(), 6u);
  for (const auto& kind : listed) {
    json config = {{"ociVersion", "1.0.0"},
                   {"hooks", {{kind, json::array({{{"path", "/bin/true"}}})}}}};
    urun::spec::Spec spec = urun::spec::parse(config.dump());
    const auto& h = spec.hooks;
    size_t n = h.prestart.size() + h.create_runtime.size() + h.create_container.size() +
               h.start_container.size() + h.poststart.size() + h.poststop.size();
    EXPECT_EQ(n, 1u) << kind << " listed but not read";
  }
}

TEST(Features, CgroupsLsmsAndAnnotations) {
  json l = features_json()["linux"];
  EXPECT_EQ(l["cgroup"]["v1"], true);
  EXPECT_EQ(l["cgroup"]["v2"], true);
  EXPECT_EQ(l["apparmor"]["enabled"], true);
  EXPECT_EQ(l["selinux"]["enabled"], true);
  json f = features_json();
  std::set<std::string> unsafe = as_set(f["potentiallyUnsafeConfigAnnotations"]);
  for (const char* a :
       {"module.wasm.image/variant", "io.kubernetes.cri.container-type", "run.oci."})
    EXPECT_TRUE(unsafe.count(a)) << a;
  EXPECT_TRUE(f["annotations"].contains("io.github.seccomp.libseccomp.version"));
}

// intelRdt, netDevices, mount-level id mappings and memoryPolicy are applied, so listed; the
// memory policy names are exactly those the parser accepts.
TEST(Features, LinuxExtensionsAreListed) {
  json f = features_json();
  EXPECT_EQ(f["linux"]["intelRdt"]["enabled"], true);
  EXPECT_EQ(f["linux"]["netDevices"]["enabled"], true);
  EXPECT_EQ(f["linux"]["mountExtensions"]["idmap"]["enabled"], true);
  EXPECT_TRUE(as_set(f["linux"]["memoryPolicy"]["modes"]).count("MPOL_BIND"));
  EXPECT_TRUE(as_set(f["linux"]["memoryPolicy"]["flags"]).count("MPOL_F_STATIC_NODES"));
  for (const auto& m : urun::spec::memory_policy_mode_names())
    EXPECT_TRUE(as_set(f["linux"]["memoryPolicy"]["modes"]).count(m)) << m;
  for (const auto& fl : urun::spec::memory_policy_flag_names())
    EXPECT_TRUE(as_set(f["linux"]["memoryPolicy"]["flags"]).count(fl)) << fl;
  EXPECT_EQ(f["annotations"].contains("org.opencontainers.runc.checkpoint.enabled"),
            urun::criu::criu_available());
}

TEST(Features, VersionTagsInCrunsStyle) {
  std::string tags = urun::container::version_tags();
  for (const char* t : {"+SELINUX", "+APPARMOR", "+CAP", "+SECCOMP", "+EBPF"})
    EXPECT_NE(tags.find(t), std::string::npos) << tags;
  EXPECT_EQ(tags.find("+CRIU") != std::string::npos, urun::criu::criu_available()) << tags;
  EXPECT_EQ(tags.find("+SYSTEMD") != std::string::npos,
            features_json()["linux"]["cgroup"]["systemd"].get<bool>())
      << tags;
}

}  // namespace
