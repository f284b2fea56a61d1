#include "userns/mapping.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include "common/error.hpp"

namespace urun::userns {
namespace {

// Ids are 32-bit but range ends need 33: [start, start + size) may end at 2^32.
constexpr uint64_t kIdSpace = uint64_t{1} << 32;

struct Interval {
  uint64_t begin, end;  // [begin, end)
};

std::string range_text(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + "," + std::to_string(end) + ")";
}

std::string entry(std::string_view what, size_t index) {
  return std::string(what) + "[" + std::to_string(index) + "]";
}

// Reports the first pair (in index order) whose intervals intersect.
void check_overlap(const std::vector<Interval>& intervals, std::string_view what,
                   std::string_view where) {
  std::vector<size_t> order(intervals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return intervals[a].begin < intervals[b].begin; });
  // After sorting by start, an overlap always shows up between neighbours unless an earlier,
  // longer interval swallows several: track the one reaching furthest.
  size_t reach = order.empty() ? 0 : order[0];
  for (size_t k = 1; k < order.size(); ++k) {
    const Interval& cur = intervals[order[k]];
    if (cur.begin < intervals[reach].end) {
      size_t a = std::min(reach, order[k]), b = std::max(reach, order[k]);
      throw Error(std::string(what) + ": ranges " +
                  range_text(intervals[a].begin, intervals[a].end) + " and " +
                  range_text(intervals[b].begin, intervals[b].end) + " overlap " +
                  std::string(where));
    }
    if (cur.end > intervals[reach].end) reach = order[k];
  }
}

}  // namespace

std::vector<Mapping> default_mapping(uint32_t caller_id, const std::vector<SubIdRange>& ranges) {
  std::vector<Mapping> out{{0, caller_id, 1}};
  // Host ids handed out so far, kept sorted; the caller's own id is the first.
  std::vector<Interval> used{{caller_id, uint64_t{caller_id} + 1}};
  uint64_t next_container = 1;
  for (const SubIdRange& r : ranges) {
    uint64_t cur = r.start;
    const uint64_t end = std::min<uint64_t>(uint64_t{r.start} + r.count, kIdSpace);
    // Walk the range and emit the pieces not covered by `used`, in ascending order.
    while (cur < end) {
      auto it =
          std::find_if(used.begin(), used.end(), [&](const Interval& u) { return u.end > cur; });
      if (it != used.end() && it->begin <= cur) {
        cur = it->end;
        continue;
      }
      uint64_t piece_end = (it == used.end()) ? end : std::min(end, it->begin);
      uint64_t size = std::min(piece_end - cur, kIdSpace - next_container);
      if (size == 0) return out;  // no container ids left
      if (out.size() == kMaxMapLines) return out;
      out.push_back({static_cast<uint32_t>(next_container), static_cast<uint32_t>(cur),
                     static_cast<uint32_t>(size)});
      used.insert(it, Interval{cur, cur + size});
      next_container += size;
      cur += size;
    }
  }
  return out;
}

void validate_mappings(const std::vector<Mapping>& mappings, std::string_view what) {
  if (mappings.size() > kMaxMapLines) {
    throw Error(std::string(what) + ": " + std::to_string(mappings.size()) +
                " ranges, the kernel accepts at most " + std::to_string(kMaxMapLines));
  }
  std::vector<Interval> inside, outside;
  for (size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    if (m.size == 0) throw Error(entry(what, i) + ": size must not be 0");
    uint64_t inside_end = uint64_t{m.container_id} + m.size;
    uint64_t outside_end = uint64_t{m.host_id} + m.size;
    // The kernel keeps (uint32_t)-1 as the invalid id, but a range may end at 2^32 exclusive:
    // it refuses only wrap-around, so that is the boundary here too.
    if (inside_end > kIdSpace || outside_end > kIdSpace) {
      throw Error(entry(what, i) + ": range past " + std::to_string(kIdSpace - 1));
    }
    inside.push_back({m.container_id, inside_end});
    outside.push_back({m.host_id, outside_end});
  }
  check_overlap(inside, what, "in the container");
  check_overlap(outside, what, "on the host");
}

void check_available(const std::vector<Mapping>& mappings, uint32_t caller_id,
                     const std::vector<SubIdRange>& allowed, std::string_view what) {
  std::vector<Interval> ok{{caller_id, uint64_t{caller_id} + 1}};
  for (const SubIdRange& r : allowed) ok.push_back({r.start, uint64_t{r.start} + r.count});
  for (size_t i = 0; i < mappings.size(); ++i) {
    const Mapping& m = mappings[i];
    uint64_t cur = m.host_id;
    const uint64_t end = uint64_t{m.host_id} + m.size;
    while (cur < end) {
      auto it = std::find_if(ok.begin(), ok.end(),
                             [&](const Interval& r) { return r.begin <= cur && cur < r.end; });
      if (it == ok.end()) {
        throw Error(entry(what, i) + ": host id " + std::to_string(cur) +
                    " is not available to id " + std::to_string(caller_id) +
                    " (neither its own id nor in its subordinate ranges)");
      }
      cur = it->end;
    }
  }
}

bool is_single_own_id(const std::vector<Mapping>& mappings, uint32_t caller_id) {
  return mappings.size() == 1 && mappings[0].host_id == caller_id && mappings[0].size == 1;
}

std::string format_id_map(const std::vector<Mapping>& mappings) {
  std::string text;
  for (const Mapping& m : mappings) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.size) + "\n";
  }
  return text;
}

std::vector<Mapping> parse_id_map(std::string_view content) {
  std::vector<Mapping> out;
  uint32_t values[3];
  size_t n = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    char c = content[pos];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (c == '\n' && n != 0) throw Error("parse id map: incomplete line in " + quote(content));
      ++pos;
      continue;
    }
    auto [ptr, ec] =
        std::from_chars(content.data() + pos, content.data() + content.size(), values[n]);
    if (ec != std::errc() || ptr == content.data() + pos) {
      throw Error("parse id map: bad number in " + quote(content));
    }
    pos = ptr - content.data();
    if (++n == 3) {
      out.push_back({values[0], values[1], values[2]});
      n = 0;
    }
  }
  if (n != 0) throw Error("parse id map: incomplete line in " + quote(content));
  return out;
}

bool to_host_id(const std::vector<Mapping>& mappings, uint32_t container_id, uint32_t& host_id) {
  for (const Mapping& m : mappings) {
    if (container_id >= m.container_id &&
        uint64_t{container_id} < uint64_t{m.container_id} + m.size) {
      host_id = m.host_id + (container_id - m.container_id);
      return true;
    }
  }
  return false;
}

}  // namespace urun::userns
