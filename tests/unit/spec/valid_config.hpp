#pragma once
// A valid minimal config to patch, and validate()'s verdict on a config: shared by the spec
// tests that check one field against the namespaces the container owns.
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "spec/spec.hpp"

namespace urun_test {

// A valid config owning the namespaces of `namespaces` (an array of {"type": ...}), with
// `patch` merged in.
inline nlohmann::json valid_config(nlohmann::json namespaces,
                                   const nlohmann::json& patch = nlohmann::json::object()) {
  nlohmann::json j = {{"ociVersion", "1.2.0"},
                      {"process", {{"args", {"sh"}}, {"cwd", "/"}}},
                      {"root", {{"path", "rootfs"}}},
                      {"linux", {{"namespaces", std::move(namespaces)}}}};
  j.merge_patch(patch);
  return j;
}

// validate()'s message for the config, "<valid>" when it passes; `code` gets the error's errno.
inline std::string validate_error(const nlohmann::json& j, int* code = nullptr) {
  try {
    urun::spec::validate(urun::spec::from_json(j));
  } catch (const urun::Error& e) {
    if (code) *code = e.code();
    return e.what();
  }
  return "<valid>";
}

}  // namespace urun_test
