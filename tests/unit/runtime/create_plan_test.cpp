// plan_create: what a create decides before anything exists. A bad config fails here (before
// the state dir or cgroup), the seccomp program is compiled into the plan, joined namespace fds
// are kept clear of the preserved range, and annotations and time offsets are planned.
#include "runtime/create_plan.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace urun::runtime {
namespace {

using Json = nlohmann::json;

Json base_config() {
  return {{"ociVersion", "1.0.0"},
          {"process", {{"args", {"true"}}, {"cwd", "/"}, {"user", {{"uid", 0}, {"gid", 0}}}}},
          {"root", {{"path", "rootfs"}}},
          {"linux", {{"namespaces", Json::array({{{"type", "mount"}}})}}}};
}

// A privileged caller, so that no automatic user namespace is planned.
CreatePlan plan_of(const spec::Spec& spec, int preserve_fds = 0) {
  CreateOptions options;
  options.id = "c1";
  options.rootfs = "/nonexistent/rootfs";
  options.preserve_fds = preserve_fds;
  return plan_create(spec, "/nonexistent", std::move(options), Caller{});
}

std::string plan_error(const spec::Spec& spec) {
  try {
    plan_of(spec);
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(CreatePlan, UnknownCapabilityFailsThePlan) {
  Json config = base_config();
  config["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_NO_SUCH_THING"}}};
  spec::Spec spec = spec::parse(config.dump());
  EXPECT_EQ(plan_error(spec), "process.capabilities: unknown capability `CAP_NO_SUCH_THING`");
}

TEST(CreatePlan, SeccompIsCompiledIntoThePlan) {
  Json config = base_config();
  config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", Json::array({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}})}};
  spec::Spec spec = spec::parse(config.dump());
  CreatePlan plan = plan_of(spec);
  ASSERT_TRUE(plan.seccomp.has_value());
  EXPECT_FALSE(plan.seccomp->notify);
}

TEST(CreatePlan, InvalidSeccompProfileFailsThePlan) {
  Json config = base_config();
  config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_NO_SUCH_ACTION"}};
  spec::Spec spec = spec::parse(config.dump());
  EXPECT_NE(plan_error(spec).find("SCMP_ACT_NO_SUCH_ACTION"), std::string::npos)
      << plan_error(spec);
}

TEST(CreatePlan, JoinedNamespaceFdIsAboveThePreservedFds) {
  Json config = base_config();
  config["linux"]["namespaces"].push_back({{"type", "network"}, {"path", "/proc/self/ns/net"}});
  spec::Spec spec = spec::parse(config.dump());
  CreatePlan plan = plan_of(spec, 40);
  ASSERT_EQ(plan.namespaces.join.size(), 1u);
  EXPECT_EQ(plan.namespaces.join[0].first, CLONE_NEWNET);
  EXPECT_GE(plan.namespaces.join[0].second.get(), 3 + 40);
  EXPECT_FALSE(plan.joins_user);
  EXPECT_FALSE(plan.user_ns());
}

TEST(CreatePlan, AnnotationsAndTimeOffsetsArePlanned) {
  Json config = base_config();
  config["annotations"] = {{"run.oci.keep_original_groups", "1"}};
  config["linux"]["namespaces"].push_back({{"type", "time"}});
  config["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 5}, {"nanosecs", 0}}}};
  spec::Spec spec = spec::parse(config.dump());
  CreatePlan plan = plan_of(spec);
  EXPECT_TRUE(plan.keep_original_groups);
  EXPECT_TRUE(plan.namespaces.unshare_flags & CLONE_NEWTIME);
  EXPECT_NE(plan.timens_offsets.find("monotonic 5 0"), std::string::npos) << plan.timens_offsets;
  EXPECT_FALSE(plan.intermediate_userns);
  EXPECT_FALSE(plan.seccomp.has_value());
}

}  // namespace
}  // namespace urun::runtime
