#pragma once
// Whether urun starts a network helper for a container, decided before anything is created.
#include <optional>
#include <string>

#include "network/config.hpp"
#include "spec/spec.hpp"

namespace urun::network {

struct NetworkPlan {
  NetworkConfig config;
  std::string program;  // absolute path of slirp4netns or pasta
};

// The helper to start, or nullopt when urun does nothing: no run.urun.network annotation (or
// "none"), a privileged caller (root's containers get their network from whoever made the
// namespace), or no new network namespace (none, or one joined by path: Podman and containerd
// bring their own network). Each "nothing" is said in the debug log. Throws Error for a bad
// annotation and for a helper that is not installed.
std::optional<NetworkPlan> plan_network(const spec::Spec& spec, bool rootless);

// The program's absolute path, searched in $PATH and then the standard directories; "" when
// absent. For `urun check` too.
std::string find_helper(const char* name);

}  // namespace urun::network
