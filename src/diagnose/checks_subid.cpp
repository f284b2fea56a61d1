// Subordinate ids (/etc/subuid, /etc/subgid) and the setuid helpers that map them.
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "common/error.hpp"
#include "diagnose/check.hpp"
#include "userns/map_writer.hpp"

namespace urun::diagnose {
namespace {

// Most images own files up to id 65535: a container needs that many ids to unpack them.
constexpr uint64_t kWantedIds = 65536;

uint64_t end_of(const userns::SubIdRange& r) { return uint64_t{r.start} + r.count; }

struct IdSide {
  bool uids;
  std::string_view noun() const { return uids ? "subordinate uids" : "subordinate gids"; }
  std::string_view file() const { return uids ? userns::kSubUidPath : userns::kSubGidPath; }
  std::string_view add() const { return uids ? "--add-subuids" : "--add-subgids"; }
  std::string_view del() const { return uids ? "--del-subuids" : "--del-subgids"; }
  std::string_view helper() const { return uids ? "newuidmap" : "newgidmap"; }
  cap_value_t cap() const { return uids ? CAP_SETUID : CAP_SETGID; }
};

Finding subid_finding(const Context& ctx, IdSide side) {
  Finding f{std::string(side.noun()), Status::ok, "", ""};
  std::vector<userns::SubIdEntry> entries;
  try {
    entries = userns::parse_subid_entries(userns::read_subid_file(std::string(side.file())));
  } catch (const Error& e) {
    f.status = Status::fail;
    f.detail = e.message();
    f.fix = "sudo chmod 0644 " + std::string(side.file());
    return f;
  }
  const std::string name = userns::user_name(ctx.uid).value_or("");
  uint64_t total = 0;
  std::string ranges;
  for (const auto& e : entries) {
    if (!userns::subid_owner_is(e.owner, name, ctx.uid)) continue;
    total += e.range.count;
    ranges += (ranges.empty() ? "" : ", ") + range_text(e.range.start, e.range.count);
  }
  const uint64_t free_start = first_free_id(entries);
  const std::string add = "sudo usermod " + std::string(side.add()) + " " +
                          range_text(free_start, kWantedIds) + " " + ctx.user;
  if (total == 0) {
    f.status = Status::fail;
    f.detail = "no range for " + quote(ctx.user) + " (uid " + std::to_string(ctx.uid) + ") in " +
               std::string(side.file()) +
               ": containers can map only your own id, and newuidmap refuses more";
    f.fix = add;
    return f;
  }
  f.detail = std::to_string(total) + " ids in " + std::string(side.file()) + " (" + ranges + ")";
  if (auto overlaps = find_overlaps(entries, name, ctx.uid); !overlaps.empty()) {
    const Overlap& o = overlaps.front();
    f.status = Status::warn;
    f.detail += "; " + range_text(o.mine.start, o.mine.count) + " overlaps " +
                quote(o.other_owner) + "'s " + range_text(o.theirs.start, o.theirs.count) +
                ": their containers and yours share these host ids";
    f.fix = "sudo usermod " + std::string(side.del()) + " " +
            range_text(o.mine.start, o.mine.count) + " " + std::string(side.add()) + " " +
            range_text(free_start, std::max<uint64_t>(o.mine.count, kWantedIds)) + " " + ctx.user;
  } else if (total < kWantedIds) {
    f.status = Status::warn;
    f.detail += ": fewer than 65536, images with files owned by higher ids cannot be unpacked";
    f.fix = add;
  }
  return f;
}

Finding helper_finding(const Context& ctx, IdSide side) {
  const std::string name(side.helper());
  Finding f{name, Status::ok, "", ""};
  const std::string path = userns::find_program(name, std::nullopt);
  if (path.empty()) {
    f.status = Status::fail;
    f.detail = "not found in PATH: containers map only your own id";
    // Installed, but in a directory the caller's PATH lacks.
    for (const char* dir : {"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"}) {
      std::string candidate = std::string(dir) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) {
        f.detail += " (" + candidate + " exists)";
        f.fix = "export PATH=\"$PATH:" + std::string(dir) + "\"";
        return f;
      }
    }
    f.fix = "sudo apt-get install uidmap (Fedora: sudo dnf install shadow-utils)";
    return f;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    f.status = Status::fail;
    f.detail = path + ": " + std::strerror(errno);
    return f;
  }
  struct statvfs vfs {};
  const bool nosuid = ::statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
  const bool setuid_root = (st.st_mode & S_ISUID) && st.st_uid == 0;
  const std::string cap_name = side.uids ? "cap_setuid" : "cap_setgid";
  if (nosuid) {
    f.status = Status::fail;
    f.detail = path + " is on a nosuid mount: its setuid bit and capabilities do not apply";
    f.fix = "put a PATH directory on a normal mount first, e.g. export PATH=\"/usr/bin:$PATH\"";
  } else if (setuid_root) {
    f.detail = path + " (setuid root)";
  } else if (file_has_capability(path, side.cap(), true)) {
    f.detail = path + " (file capability " + cap_name + "+ep)";
  } else {
    f.status = Status::fail;
    f.detail = path + " is neither setuid root nor has " + cap_name +
               "+ep: it cannot write the map of " + ctx.user + "'s subordinate ids";
    f.fix = st.st_uid == 0 ? "sudo chmod u+s " + path
                           : "sudo chown root " + path + " && sudo chmod u+s " + path;
  }
  return f;
}

}  // namespace

bool file_has_capability(const std::string& path, int cap, bool effective) {
  cap_t caps = ::cap_get_file(path.c_str());  // the security.capability xattr
  if (!caps) return false;
  cap_flag_value_t permitted = CAP_CLEAR, eff = CAP_CLEAR;
  ::cap_get_flag(caps, cap, CAP_PERMITTED, &permitted);
  ::cap_get_flag(caps, cap, CAP_EFFECTIVE, &eff);
  ::cap_free(caps);
  return permitted == CAP_SET && (!effective || eff == CAP_SET);
}

std::string range_text(uint64_t start, uint64_t count) {
  return std::to_string(start) + "-" + std::to_string(start + count - 1);
}

std::vector<Overlap> find_overlaps(const std::vector<userns::SubIdEntry>& entries,
                                   std::string_view user_name, uint32_t uid) {
  std::vector<Overlap> out;
  for (const auto& mine : entries) {
    if (!userns::subid_owner_is(mine.owner, user_name, uid)) continue;
    for (const auto& other : entries) {
      if (userns::subid_owner_is(other.owner, user_name, uid)) continue;
      if (mine.range.start < end_of(other.range) && other.range.start < end_of(mine.range))
        out.push_back({mine.range, other.owner, other.range});
    }
  }
  return out;
}

uint64_t first_free_id(const std::vector<userns::SubIdEntry>& entries) {
  uint64_t next = 100000;
  for (const auto& e : entries) next = std::max(next, end_of(e.range));
  return next;
}

void check_subordinate_ids(const Context& ctx, Findings& out) {
  out.push_back(subid_finding(ctx, {true}));
  out.push_back(subid_finding(ctx, {false}));
}

void check_idmap_helpers(const Context& ctx, Findings& out) {
  out.push_back(helper_finding(ctx, {true}));
  out.push_back(helper_finding(ctx, {false}));
}

}  // namespace urun::diagnose
