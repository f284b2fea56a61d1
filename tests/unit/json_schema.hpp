#pragma once
// A small JSON-schema (draft-04) validator for the keywords the runtime-spec schemas use: $ref
// to another file of the same directory or within one, type, properties, required, items,
// enum, pattern, patternProperties, additionalProperties, minimum, maximum, allOf, anyOf,
// oneOf, minItems, minLength. Any other keyword is an error, so a schema the validator does
// not understand cannot pass by being skipped. Test-only: Debian has no C++ schema library.
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace urun_test {

class JsonSchema {
 public:
  // dir holds the schema files; root is the file to validate against.
  JsonSchema(std::string dir, const std::string& root) : dir_(std::move(dir)), root_(root) {}

  // The violations found (empty: valid), each "<json path>: <what>".
  std::vector<std::string> validate(const nlohmann::json& doc) {
    errors_.clear();
    check(doc, load(root_), root_, "$");
    return errors_;
  }

 private:
  const nlohmann::json& load(const std::string& file) {
    auto it = files_.find(file);
    if (it != files_.end()) return it->second;
    std::ifstream in(dir_ + "/" + file);
    if (!in) throw std::runtime_error("schema file " + dir_ + "/" + file + " not found");
    return files_[file] = nlohmann::json::parse(in);
  }

  // "defs.json#/definitions/x" or "#/definitions/x" (relative to `file`).
  std::pair<const nlohmann::json*, std::string> resolve(const std::string& ref,
                                                        const std::string& file) {
    size_t hash = ref.find('#');
    std::string target = hash == 0 ? file : ref.substr(0, hash);
    const nlohmann::json* node = &load(target);
    if (hash != std::string::npos && hash + 1 < ref.size())
      node = &node->at(nlohmann::json::json_pointer(ref.substr(hash + 1)));
    return {node, target};
  }

  static bool has_type(const nlohmann::json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "integer") return v.is_number_integer();
    if (type == "number") return v.is_number();
    if (type == "null") return v.is_null();
    throw std::runtime_error("unknown schema type " + type);
  }

  void fail(const std::string& path, const std::string& what) {
    errors_.push_back(path + ": " + what);
  }

  bool valid_against(const nlohmann::json& v, const nlohmann::json& s, const std::string& file) {
    JsonSchema sub(dir_, root_);
    sub.files_ = files_;
    sub.check(v, s, file, "$");
    return sub.errors_.empty();
  }

  void check(const nlohmann::json& v, const nlohmann::json& s, const std::string& file,
             const std::string& path) {
    static const std::set<std::string> kIgnored = {"description", "$schema", "id",
                                                   "default",     "title",   "definitions"};
    for (const auto& [key, rule] : s.items()) {
      if (kIgnored.count(key)) continue;
      if (key == "$ref") {
        auto [node, target] = resolve(rule.get<std::string>(), file);
        check(v, *node, target, path);
      } else if (key == "type") {
        bool ok = false;
        if (rule.is_array()) {
          for (const auto& t : rule) ok = ok || has_type(v, t.get<std::string>());
        } else {
          ok = has_type(v, rule.get<std::string>());
        }
        if (!ok) fail(path, "must be of type " + rule.dump());
      } else if (key == "properties") {
        if (!v.is_object()) continue;
        for (const auto& [name, sub] : rule.items())
          if (v.contains(name)) check(v.at(name), sub, file, path + "." + name);
      } else if (key == "patternProperties") {
        if (!v.is_object()) continue;
        for (const auto& [pattern, sub] : rule.items())
          for (const auto& [name, value] : v.items())
            if (std::regex_search(name, std::regex(pattern)))
              check(value, sub, file, path + "." + name);
      } else if (key == "additionalProperties") {
        if (!v.is_object() || (rule.is_boolean() && rule.get<bool>())) continue;
        for (const auto& [name, value] : v.items()) {
          bool declared = s.contains("properties") && s["properties"].contains(name);
          if (s.contains("patternProperties"))
            for (const auto& [pattern, sub] : s["patternProperties"].items())
              declared = declared || std::regex_search(name, std::regex(pattern));
          if (declared) continue;
          if (rule.is_boolean())
            fail(path + "." + name, "property not allowed");
          else
            check(value, rule, file, path + "." + name);
        }
      } else if (key == "required") {
        if (!v.is_object()) continue;
        for (const auto& name : rule)
          if (!v.contains(name.get<std::string>()))
            fail(path, "missing required " + name.get<std::string>());
      } else if (key == "items") {
        if (!v.is_array()) continue;
        for (size_t i = 0; i < v.size(); ++i)
          check(v[i], rule, file, path + "[" + std::to_string(i) + "]");
      } else if (key == "enum") {
        bool found = false;
        for (const auto& e : rule) found = found || e == v;
        if (!found) fail(path, v.dump() + " is not one of " + rule.dump());
      } else if (key == "pattern") {
        if (v.is_string() &&
            !std::regex_search(v.get<std::string>(), std::regex(rule.get<std::string>())))
          fail(path, v.dump() + " does not match " + rule.get<std::string>());
      } else if (key == "minimum") {
        if (v.is_number() && v.get<double>() < rule.get<double>()) fail(path, "below minimum");
      } else if (key == "maximum") {
        if (v.is_number() && v.get<double>() > rule.get<double>()) fail(path, "above maximum");
      } else if (key == "minItems") {
        if (v.is_array() && v.size() < rule.get<size_t>()) fail(path, "too few items");
      } else if (key == "minLength") {
        if (v.is_string() && v.get<std::string>().size() < rule.get<size_t>())
          fail(path, "too short");
      } else if (key == "allOf") {
        for (const auto& sub : rule) check(v, sub, file, path);
      } else if (key == "anyOf" || key == "oneOf") {
        size_t matches = 0;
        for (const auto& sub : rule) matches += valid_against(v, sub, file) ? 1 : 0;
        if (matches == 0 || (key == "oneOf" && matches > 1))
          fail(path, "does not match " + key + " (" + std::to_string(matches) + " matches)");
      } else {
        throw std::runtime_error("schema keyword " + key + " is not supported by this validator");
      }
    }
  }

  std::string dir_, root_;
  std::map<std::string, nlohmann::json> files_;
  std::vector<std::string> errors_;
};

}  // namespace urun_test
