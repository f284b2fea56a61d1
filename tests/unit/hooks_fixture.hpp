#pragma once
// The fixture of the hook tests, shared by the runner's (tests/unit/runtime/hooks_test.cpp)
// and the container policy's (tests/unit/container/hooks_test.cpp): both are suite Hooks, and
// GoogleTest wants one fixture class per suite.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "spec/spec.hpp"

namespace urun_unit_test {

namespace fsys = std::filesystem;
using urun::spec::Hook;

class Hooks : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/urun-hooks-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fsys::remove_all(dir_); }

  // Writes an executable /bin/sh script and returns its path.
  std::string script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0755);
    return path;
  }

  std::string file(const std::string& name) const { return dir_ + "/" + name; }

  static std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  static Hook hook(std::string path, std::vector<std::string> args = {},
                   std::vector<std::string> env = {}, std::optional<int> timeout = {}) {
    Hook h;
    h.path = std::move(path);
    h.args = std::move(args);
    h.env = std::move(env);
    h.timeout = timeout;
    return h;
  }

  std::string dir_;
};

}  // namespace urun_unit_test
