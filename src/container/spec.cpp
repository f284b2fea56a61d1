#include "spec/spec.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "container/commands.hpp"

namespace urun::container {

void write_spec(const std::string& bundle, bool rootless) {
  std::string path = (bundle.empty() ? std::string(".") : bundle) + "/config.json";
  std::string text = spec::default_spec(rootless).dump(2) + "\n";
  // O_EXCL: never overwrite a config someone wrote, as crun and runc refuse too.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    if (errno == EEXIST) throw Error(quote(path) + " already exists", EEXIST);
    throw_errno("create " + quote(path));
  }
  if (!fs::write_all(fd.get(), text)) throw_errno("write " + quote(path));
}

}  // namespace urun::container
