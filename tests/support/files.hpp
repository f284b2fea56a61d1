#pragma once
// Reading and writing whole files in tests (fake /proc and cgroup trees, config files).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace urun_test {

// The whole content of the file at `path`; "" when it cannot be read.
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes `content` to `path` (replacing it), creating its parent directories.
inline void put(const std::filesystem::path& path, const std::string& content = "") {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

}  // namespace urun_test
