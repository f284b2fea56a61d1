#include "linux/mounts/mount_label.hpp"

namespace urun::linux {

std::string with_mount_label(const std::string& data, std::string_view type,
                             std::string_view label) {
  if (label.empty() || type == "proc" || type == "sysfs") return data;
  std::string out = data;
  if (!out.empty()) out += ',';
  out += "context=\"";
  out += label;
  out += '"';
  return out;
}

}  // namespace urun::linux
