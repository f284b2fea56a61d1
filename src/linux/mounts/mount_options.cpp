// The mount options of the config: crun's tables of flags, propagation and r$FLAG options,
// and the parser that turns a mount's option list into MountOptions (mounts.hpp).
#include <sys/mount.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "linux/mounts/mounts.hpp"

namespace urun::linux {
namespace {

// One atime mode at a time (parse_mount_options).
constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;

struct FlagOption {
  std::string_view name;
  bool clear;  // the option turns the flag off ("rw" clears MS_RDONLY)
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr PropagationOption kPropagationOptions[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_REC | MS_PRIVATE},
    {"shared", MS_SHARED},         {"rshared", MS_REC | MS_SHARED},
    {"slave", MS_SLAVE},           {"rslave", MS_REC | MS_SLAVE},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_REC | MS_UNBINDABLE},
};

// crun's r$FLAG options. `atime` marks a change of the atime mode, which
// mount_setattr only accepts with the whole MOUNT_ATTR__ATIME field cleared.
struct RecursiveOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
  bool atime;
};

constexpr RecursiveOption kRecursiveOptions[] = {
    {"rro", false, MOUNT_ATTR_RDONLY, false},
    {"rrw", true, MOUNT_ATTR_RDONLY, false},
    {"rnosuid", false, MOUNT_ATTR_NOSUID, false},
    {"rsuid", true, MOUNT_ATTR_NOSUID, false},
    {"rnodev", false, MOUNT_ATTR_NODEV, false},
    {"rdev", true, MOUNT_ATTR_NODEV, false},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC, false},
    {"rexec", true, MOUNT_ATTR_NOEXEC, false},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW, false},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW, false},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME, false},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME, false},
    // The atime mode is one value: relatime (0), noatime or strictatime. The
    // negative forms fall back to the kernel default, relatime; "rnorelatime"
    // means "not relatime", which for mount(2) too ends up as strictatime.
    {"rrelatime", false, MOUNT_ATTR_RELATIME, true},
    {"rnorelatime", false, MOUNT_ATTR_STRICTATIME, true},
    {"rnoatime", false, MOUNT_ATTR_NOATIME, true},
    {"ratime", false, MOUNT_ATTR_RELATIME, true},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME, true},
    {"rnostrictatime", false, MOUNT_ATTR_RELATIME, true},
};

// Listed by crun's manual but without a mount_setattr attribute: accepted and
// ignored rather than handed to the filesystem, which would reject them.
constexpr std::string_view kRecursiveNoOps[] = {"rsync", "rasync", "rdirsync", "rmand", "rnomand"};

}  // namespace

unsigned long propagation_flags(std::string_view name) {
  for (const auto &p : kPropagationOptions) {
    if (p.name == name) return p.flags;
  }
  return 0;
}

MountOptions parse_mount_options(const std::vector<std::string> &options) {
  MountOptions out;
  for (const std::string &opt : options) {
    bool handled = false;
    for (const auto &f : kFlagOptions) {
      if (f.name != opt) continue;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.clear_flags |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clear_flags &= ~f.flag;
        // One atime mode at a time: the last one named wins.
        if (f.flag & kAtimeFlags) {
          out.flags = (out.flags & ~kAtimeFlags) | f.flag;
          out.clear_flags |= kAtimeFlags & ~f.flag;
        }
      }
      handled = true;
      break;
    }
    if (handled) continue;
    if (unsigned long p = propagation_flags(opt)) {
      out.propagation.push_back(p);
      continue;
    }
    for (const auto &r : kRecursiveOptions) {
      if (r.name != opt) continue;
      if (r.atime) {
        out.attr_clr |= MOUNT_ATTR__ATIME;
        out.attr_set = (out.attr_set & ~static_cast<uint64_t>(MOUNT_ATTR__ATIME)) | r.attr;
      } else if (r.clear) {
        out.attr_set &= ~r.attr;
        out.attr_clr |= r.attr;
      } else {
        out.attr_set |= r.attr;
        out.attr_clr &= ~r.attr;
      }
      handled = true;
      break;
    }
    if (handled) continue;
    bool noop = false;
    for (auto n : kRecursiveNoOps) noop = noop || n == opt;
    if (noop) continue;
    if (opt == "tmpcopyup") {
      out.tmpcopyup = true;
    } else if (opt == "notmpcopyup") {
      out.tmpcopyup = false;
    } else if (opt == "copy-symlink") {
      out.copy_symlink = true;
    } else if (opt == "src-nofollow") {
      out.src_nofollow = true;
    } else if (opt == "dest-nofollow") {
      out.dest_nofollow = true;
    } else if (opt == "idmap" || opt == "ridmap") {
      out.idmap = true;
      out.idmap_recursive = opt == "ridmap";
    } else if (opt.rfind("idmap=", 0) == 0 || opt.rfind("ridmap=", 0) == 0) {
      out.idmap = true;
      out.idmap_recursive = opt[0] == 'r';
      out.idmap_spec = opt.substr(opt.find('=') + 1);
    } else if (!opt.empty()) {
      if (!out.data.empty()) out.data += ',';
      out.data += opt;
    }
  }
  return out;
}

std::vector<std::string> known_mount_options() {
  // From the tables parse_mount_options consumes, so `features` cannot list an option urun
  // does not apply, nor miss one it does. The r$FLAG no-ops are left out: accepted, not
  // applied. The extensions are the branches at the end of parse_mount_options.
  std::vector<std::string> out;
  for (const auto &f : kFlagOptions)
    if (f.name != "defaults") out.emplace_back(f.name);
  for (const auto &p : kPropagationOptions) out.emplace_back(p.name);
  for (const auto &r : kRecursiveOptions) out.emplace_back(r.name);
  for (const char *ext : {"tmpcopyup", "notmpcopyup", "copy-symlink", "idmap", "ridmap",
                          "src-nofollow", "dest-nofollow"})
    out.emplace_back(ext);
  return out;
}

bool is_ignored_mount_option(std::string_view name) {
  for (auto n : kRecursiveNoOps)
    if (n == name) return true;
  return false;
}

}  // namespace urun::linux