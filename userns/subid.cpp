#include "userns/subid.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace urun::userns {
namespace {

std::string_view trim(std::string_view s) {
  const char* space = " \t\r";
  size_t b = s.find_first_not_of(space);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(space);
  return s.substr(b, e - b + 1);
}

// Whole-field decimal only: from_chars alone would accept "12abc" as 12.
bool parse_number(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

namespace {

// One line "name:start:count", trimmed, not blank and not a comment. `wanted` decides from
// the owner whether the line is looked at at all: a line for someone else is not our
// business, even when malformed. False (with a debug message for a line we wanted) when the
// line gives no range.
template <typename Wanted>
bool parse_line(std::string_view line, size_t line_no, Wanted&& wanted, SubIdEntry& out) {
  size_t c1 = line.find(':');
  size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
  if (c2 == std::string_view::npos || line.find(':', c2 + 1) != std::string_view::npos) {
    log::debug("subordinate ids: line " + std::to_string(line_no) +
               ": expected name:start:count, skipped");
    return false;
  }
  std::string_view owner = trim(line.substr(0, c1));
  if (owner.empty() || !wanted(owner)) return false;
  uint64_t start = 0, count = 0;
  if (!parse_number(trim(line.substr(c1 + 1, c2 - c1 - 1)), start) ||
      !parse_number(trim(line.substr(c2 + 1)), count)) {
    log::debug("subordinate ids: line " + std::to_string(line_no) + ": bad number, skipped");
    return false;
  }
  if (count == 0) {
    log::debug("subordinate ids: line " + std::to_string(line_no) + ": count 0, skipped");
    return false;
  }
  if (start > UINT32_MAX || count > (uint64_t{1} << 32) - start) {
    log::debug("subordinate ids: line " + std::to_string(line_no) +
               ": range past 4294967295, skipped");
    return false;
  }
  out.owner = std::string(owner);
  out.range = {static_cast<uint32_t>(start), static_cast<uint32_t>(count)};
  return true;
}

// Calls parse_line on each line that is neither blank nor a comment.
template <typename Wanted, typename Sink>
void for_each_entry(std::string_view content, Wanted&& wanted, Sink&& sink) {
  size_t line_no = 0;
  while (!content.empty()) {
    size_t nl = content.find('\n');
    std::string_view line = trim(content.substr(0, nl));
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    SubIdEntry entry;
    if (parse_line(line, line_no, wanted, entry)) sink(std::move(entry));
  }
}

}  // namespace

bool subid_owner_is(std::string_view owner, std::string_view user_name, uint32_t uid) {
  return (!user_name.empty() && owner == user_name) || owner == std::to_string(uid);
}

std::vector<SubIdRange> parse_subid(std::string_view file_content, std::string_view user_name,
                                    uint32_t uid) {
  std::vector<SubIdRange> out;
  const std::string uid_text = std::to_string(uid);
  auto ours = [&](std::string_view owner) {
    return (!user_name.empty() && owner == user_name) || owner == uid_text;
  };
  for_each_entry(file_content, ours, [&](SubIdEntry&& e) { out.push_back(e.range); });
  return out;
}

std::vector<SubIdEntry> parse_subid_entries(std::string_view file_content) {
  std::vector<SubIdEntry> out;
  for_each_entry(
      file_content, [](std::string_view) { return true; },
      [&](SubIdEntry&& e) { out.push_back(std::move(e)); });
  return out;
}

std::string read_subid_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    throw_errno("open " + quote(path));
  }
  std::string content;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read " + quote(path));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  return content;
}

std::vector<SubIdRange> read_subids(const std::string& path, std::string_view user_name,
                                    uint32_t uid) {
  return parse_subid(read_subid_file(path), user_name, uid);
}

DefaultMappings rootless_default_mappings(uid_t uid, gid_t gid, const std::string& subuid_path,
                                          const std::string& subgid_path) {
  // A user missing from the password database can still have numeric subuid entries.
  const std::string name = user_name(uid).value_or("");
  DefaultMappings out;
  out.uids = default_mapping(uid, read_subids(subuid_path, name, uid));
  out.gids = default_mapping(gid, read_subids(subgid_path, name, uid));
  return out;
}

namespace {

std::optional<std::string> look_up_user_name(uid_t uid) {
  struct passwd pw;
  struct passwd* result = nullptr;
  std::string buf(1024, '\0');
  for (;;) {
    int err = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &result);
    if (err == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (err != 0 || result == nullptr) return std::nullopt;
    return std::string(pw.pw_name);
  }
}

}  // namespace

// Remembered for the process: a create asks for the caller's name twice (the default id map and
// the record's owner), and each lookup reads nsswitch's sources (/etc/passwd) again.
std::optional<std::string> user_name(uid_t uid) {
  static std::optional<uid_t> cached_uid;
  static std::optional<std::string> cached_name;
  if (cached_uid != uid) {
    cached_name = look_up_user_name(uid);
    cached_uid = uid;
  }
  return cached_name;
}

}  // namespace urun::userns
