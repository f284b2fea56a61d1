#include "userns/idmap_option.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "common/error.hpp"

namespace urun::userns {
namespace {

constexpr std::string_view kPrefix = "idmap=";

[[noreturn]] void fail(std::string_view option, const std::string& reason) {
  throw Error("invalid idmap option " + quote(option) + ": " + reason, EINVAL);
}

bool parse_u32(std::string_view s, uint32_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Translates one '@' triplet: its second value is a container id. A range crossing several
// container mappings is split along them, so every id lands where the container sees it.
void append_relative(std::string_view option, std::string_view text, Mapping m,
                     const std::vector<Mapping>& container, std::string_view what,
                     std::vector<Mapping>& out) {
  if (container.empty()) {
    fail(option, "relative range " + quote(text) + " needs the container's " + std::string(what));
  }
  uint64_t cur = m.host_id;
  uint64_t inside = m.container_id;
  uint64_t left = m.size;
  while (left > 0) {
    const Mapping* found = nullptr;
    for (const Mapping& c : container) {
      if (cur >= c.container_id && cur < uint64_t{c.container_id} + c.size) {
        found = &c;
        break;
      }
    }
    if (found == nullptr) {
      fail(option, "relative range " + quote(text) + ": container id " + std::to_string(cur) +
                       " is not in " + std::string(what));
    }
    uint64_t len = std::min<uint64_t>(left, uint64_t{found->container_id} + found->size - cur);
    out.push_back({static_cast<uint32_t>(inside),
                   static_cast<uint32_t>(found->host_id + (cur - found->container_id)),
                   static_cast<uint32_t>(len)});
    cur += len;
    inside += len;
    left -= len;
  }
}

std::vector<Mapping> parse_ranges(std::string_view option, std::string_view ranges,
                                  const std::vector<Mapping>& container, std::string_view what) {
  std::vector<Mapping> out;
  if (ranges.empty())
    fail(option, "no ranges after " + quote(what == "uidMappings" ? "uids=" : "gids="));
  while (true) {
    size_t hash = ranges.find('#');
    std::string_view text = ranges.substr(0, hash);
    std::string_view body = text;
    bool relative = !body.empty() && body.front() == '@';
    if (relative) body.remove_prefix(1);

    uint32_t v[3];
    size_t d1 = body.find('-');
    size_t d2 = d1 == std::string_view::npos ? d1 : body.find('-', d1 + 1);
    if (d2 == std::string_view::npos || !parse_u32(body.substr(0, d1), v[0]) ||
        !parse_u32(body.substr(d1 + 1, d2 - d1 - 1), v[1]) ||
        !parse_u32(body.substr(d2 + 1), v[2])) {
      fail(option, "expected [@]<id>-<host id>-<size> in " + quote(text));
    }
    if (v[2] == 0) fail(option, "size must not be 0 in " + quote(text));
    if (uint64_t{v[0]} + v[2] > (uint64_t{1} << 32) ||
        uint64_t{v[1]} + v[2] > (uint64_t{1} << 32)) {
      fail(option, "range past 4294967295 in " + quote(text));
    }
    if (relative) {
      append_relative(option, text, {v[0], v[1], v[2]}, container, what, out);
    } else {
      out.push_back({v[0], v[1], v[2]});
    }
    if (hash == std::string_view::npos) break;
    ranges.remove_prefix(hash + 1);
  }
  try {
    validate_mappings(out, what == "uidMappings" ? "uids" : "gids");
  } catch (const Error& e) {
    fail(option, e.message());
  }
  return out;
}

}  // namespace

bool is_idmap_option(std::string_view option) {
  return option == "idmap" || option.starts_with(kPrefix);
}

IdmapSpec parse_idmap_option(std::string_view option, const std::vector<Mapping>& container_uids,
                             const std::vector<Mapping>& container_gids) {
  IdmapSpec spec;
  if (option == "idmap") return spec;
  std::string_view rest = option;
  if (rest.starts_with(kPrefix)) rest.remove_prefix(kPrefix.size());
  if (rest.empty()) fail(option, "nothing after " + quote("idmap="));
  spec.has_custom = true;
  bool seen_uids = false, seen_gids = false;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    if (part.empty()) continue;  // "uids=...;" : a trailing separator is harmless
    if (part.starts_with("uids=")) {
      if (seen_uids) fail(option, "uids given twice");
      seen_uids = true;
      spec.uids = parse_ranges(option, part.substr(5), container_uids, "uidMappings");
    } else if (part.starts_with("gids=")) {
      if (seen_gids) fail(option, "gids given twice");
      seen_gids = true;
      spec.gids = parse_ranges(option, part.substr(5), container_gids, "gidMappings");
    } else {
      fail(option, "unknown setting " + quote(part) + " (only uids= and gids= are supported)");
    }
  }
  if (!seen_uids && !seen_gids) fail(option, "neither uids= nor gids= given");
  return spec;
}

}  // namespace urun::userns
