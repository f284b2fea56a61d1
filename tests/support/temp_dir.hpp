// A temporary directory for one test, removed with everything in it when the test ends
// (also when it fails).
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace urun_test {

class TempDir {
 public:
  // prefix: names the test in /tmp, e.g. "urun-cgtest". mode: 0755 when a process of another
  // uid (the unprivileged test user) must read it.
  explicit TempDir(const std::string& prefix = "urun-test", mode_t mode = 0700) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + " failed");
    path_ = tmpl;
    if (mode != 0700) ::chmod(path_.c_str(), mode);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // The path of `name` in the directory.
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace urun_test
