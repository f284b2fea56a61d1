#pragma once
// Loading a bundle for create/run: one read and one parse of config.json.
#include <string>

#include "spec/spec.hpp"

namespace urun::container {

struct Bundle {
  std::string dir;          // absolute, resolved
  std::string config_path;  // absolute
  std::string config_text;  // as read: copied verbatim into the state dir
  std::string rootfs;       // absolute, resolved
  spec::Spec spec;
};

// Throws Error naming the file: missing config, one that is not a regular file
// or is too large (spec/json_document.hpp), malformed JSON (with line and
// column), invalid fields, missing rootfs.
Bundle load_bundle(const std::string& bundle_dir, const std::string& config_name);

}  // namespace urun::container
