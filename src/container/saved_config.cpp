#include "container/saved_config.hpp"

namespace urun::container {

std::optional<spec::Spec> read_saved_config(const state::ContainerDir& dir) {
  auto text = dir.read_config();
  if (!text) return std::nullopt;
  return spec::parse(*text);
}

}  // namespace urun::container
