#include "container/bundle.hpp"

#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "spec/json_document.hpp"

namespace urun::container {

Bundle load_bundle(const std::string& bundle_dir, const std::string& config_name) {
  Bundle b;
  b.dir = fs::real_path(bundle_dir.empty() ? "." : bundle_dir);
  b.config_path = config_name.starts_with('/') ? config_name : b.dir + "/" + config_name;
  b.config_text = spec::read_document_file(b.config_path);
  b.spec = spec::parse(b.config_text, config_name);
  try {
    spec::validate(b.spec);
  } catch (Error& e) {
    e.prepend(config_name);
    throw;
  }
  if (!b.spec.process) throw Error(config_name + ": process: must be present", EINVAL);
  const std::string& root = b.spec.root.path;
  std::string rootfs = root.starts_with('/') ? root : b.dir + "/" + root;
  try {
    b.rootfs = fs::real_path(rootfs);
  } catch (Error& e) {
    throw Error("rootfs " + quote(rootfs) + ": " + std::strerror(e.code()), e.code());
  }
  return b;
}

}  // namespace urun::container
