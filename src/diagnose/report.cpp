// The report of `urun check`: aligned text lines, or JSON for tools.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "diagnose/check.hpp"

namespace urun::diagnose {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
  }
  return "unknown";
}

std::string format_text(const Findings& findings) {
  size_t width = 0;
  for (const Finding& f : findings) width = std::max(width, f.check.size());
  std::string out;
  for (const Finding& f : findings) {
    std::string status(to_string(f.status));
    out += status + std::string(6 - status.size(), ' ') + f.check +
           std::string(width - f.check.size() + 2, ' ') + f.detail;
    if (f.status != Status::ok && !f.fix.empty()) out += " -- fix: " + f.fix;
    out += '\n';
  }
  return out;
}

std::string format_json(const Findings& findings) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const Finding& f : findings) {
    array.push_back({{"check", f.check},
                     {"status", to_string(f.status)},
                     {"detail", f.detail},
                     {"fix", f.status == Status::ok ? std::string() : f.fix}});
  }
  // Paths come from the environment and the file system: never fail on bytes that are not
  // UTF-8, show them as U+FFFD.
  return array.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

int exit_status(const Findings& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.status == Status::fail; })
             ? 1
             : 0;
}

}  // namespace urun::diagnose
