#include "container/hooks.hpp"

#include <fcntl.h>

#include "common/error.hpp"
#include "common/log.hpp"

namespace urun::container {

HookOutput open_hook_output(const spec::Spec& spec, const std::string& bundle) {
  auto open_one = [&](const char* annotation) {
    const std::string* value = spec.annotation(annotation);
    if (value == nullptr || value->empty()) return UniqueFd();
    std::string path = value->front() == '/' ? *value : bundle + "/" + *value;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd) throw_errno(std::string("open ") + annotation + " file " + quote(path));
    return fd;
  };
  HookOutput out;
  out.stdout_file = open_one("run.oci.hooks.stdout");
  out.stderr_file = open_one("run.oci.hooks.stderr");
  return out;
}

}  // namespace urun::container
