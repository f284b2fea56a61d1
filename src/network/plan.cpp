#include "network/plan.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "common/error.hpp"
#include "common/log.hpp"

namespace urun::network {

std::string find_helper(const char* name) {
  const char* env = ::getenv("PATH");
  std::string path = env ? env : "";
  // A user's PATH may lack the sbin directories, and a service's may be empty.
  path += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string_view dir(path.data() + start, end - start);
    // Relative entries would make the result depend on the working directory.
    if (dir.starts_with('/')) {
      std::string candidate = std::string(dir) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "";
}

std::optional<NetworkPlan> plan_network(const spec::Spec& spec, bool rootless) {
  // Three map look-ups when no annotation is there: cheap enough for every create.
  NetworkConfig config = parse_annotations(spec.annotations);
  if (config.mode == Mode::none) return std::nullopt;
  const char* mode = to_string(config.mode);
  if (!rootless) {
    log::debug(std::string("network: ") + kModeAnnotation + "=" + mode +
               " ignored: a privileged caller sets up its containers' network itself");
    return std::nullopt;
  }
  const spec::Namespace* net = spec.linux ? spec.linux->find_namespace("network") : nullptr;
  if (!net) {
    log::debug(std::string("network: ") + kModeAnnotation + "=" + mode +
               " ignored: the container shares the caller's network namespace");
    return std::nullopt;
  }
  if (!net->path.empty()) {
    log::debug(std::string("network: ") + kModeAnnotation + "=" + mode +
               " ignored: the network namespace is joined by path (its maker connects it)");
    return std::nullopt;
  }
  NetworkPlan plan;
  plan.config = std::move(config);
  plan.program = find_helper(mode);
  if (plan.program.empty())
    throw Error(std::string("annotation ") + quote(kModeAnnotation) + " asks for " + mode +
                    ", which is not installed (no " + quote(mode) + " in PATH; Debian package " +
                    (plan.config.mode == Mode::pasta ? "passt" : "slirp4netns") + ")",
                ENOENT);
  return plan;
}

}  // namespace urun::network
