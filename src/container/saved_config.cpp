#include "container/saved_config.hpp"

#include "common/fs.hpp"

namespace urun::container {

std::optional<spec::Spec> read_saved_config(const state::ContainerDir& dir) {
  auto text = fs::read_file_at(dir.fd(), kSavedConfig);
  if (!text) return std::nullopt;
  return spec::parse(*text);
}

}  // namespace urun::container
