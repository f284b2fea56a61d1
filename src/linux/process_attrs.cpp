#include "linux/process_attrs.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "spec/host_isolation.hpp"

namespace urun::linux {
namespace {

// Every RLIMIT_* of Linux (RLIM_NLIMITS == 16).
constexpr std::array<std::pair<std::string_view, int>, 16> kRlimits{{
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
}};

// Key permission bits from keyutils.h (not in the kernel uapi headers).
constexpr uint32_t kKeyUsrSearch = 0x00080000;
constexpr uint32_t kKeyOthSearch = 0x00000008;

std::string join_gids(const std::vector<uint32_t>& gids) {
  std::string out;
  for (uint32_t g : gids) {
    if (!out.empty()) out += ',';
    out += std::to_string(g);
  }
  return out;
}

}  // namespace

int rlimit_from_name(std::string_view name) {
  for (const auto& [n, value] : kRlimits) {
    if (n == name) return value;
  }
  return -1;
}

void apply_rlimits(const std::vector<spec::Rlimit>& rlimits) {
  for (const auto& limit : rlimits) {
    int resource = rlimit_from_name(limit.type);
    if (resource < 0) throw Error("set rlimit " + quote(limit.type) + ": unknown limit", EINVAL);
    // rlim_t is 64 bits on Linux and RLIM_INFINITY is all ones, the value the
    // spec's uint64 carries for "unlimited".
    struct rlimit value {
      static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard)
    };
    if (::setrlimit(static_cast<__rlimit_resource_t>(resource), &value) != 0) {
      throw_errno("set rlimit " + quote(limit.type));
    }
  }
}

void set_hostname(const std::string& hostname) {
  if (hostname.empty()) return;
  if (::sethostname(hostname.data(), hostname.size()) != 0) {
    throw_errno("set hostname " + quote(hostname));
  }
}

void set_domainname(const std::string& domainname) {
  if (domainname.empty()) return;
  if (::setdomainname(domainname.data(), domainname.size()) != 0) {
    throw_errno("set domainname " + quote(domainname));
  }
}

void apply_sysctl(const ProcFs& proc, const std::map<std::string, std::string>& sysctl) {
  // All keys first, so a bad config changes nothing.
  std::vector<std::string> paths;
  paths.reserve(sysctl.size());
  for (const auto& [key, value] : sysctl) {
    try {
      paths.push_back("sys/" + spec::sysctl_path(key));
    } catch (Error& e) {
      throw e.prepend("set sysctl " + quote(key));
    }
  }
  auto path = paths.begin();
  for (const auto& [key, value] : sysctl)
    proc.write_file(*path++, value, "set sysctl " + quote(key));
}

void set_user(const spec::User& user, bool keep_original_groups) {
  // Without KEEPCAPS, setresuid to a non-zero uid clears the permitted set and
  // apply_capabilities would have nothing left to keep.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_errno("set keep capabilities");

  if (!keep_original_groups) {
    bool denied = false;
    try {
      std::string state = fs::read_file("/proc/self/setgroups");
      denied = state.rfind("deny", 0) == 0;
    } catch (const Error&) {
      // Kernels before 3.19 have no such file and always allow setgroups.
    }
    // A rootless container mapped with setgroups=deny cannot drop the
    // caller's groups; with no additional groups asked for, that is what the
    // user expects anyway, so it is not worth failing for.
    if (!(denied && user.additional_gids.empty())) {
      std::vector<gid_t> gids(user.additional_gids.begin(), user.additional_gids.end());
      if (::setgroups(gids.size(), gids.empty() ? nullptr : gids.data()) != 0) {
        throw_errno("set additional groups " + quote(join_gids(user.additional_gids)));
      }
    }
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) {
    throw_errno("set gid " + quote(std::to_string(user.gid)));
  }
  if (::setresuid(user.uid, user.uid, user.uid) != 0) {
    throw_errno("set uid " + quote(std::to_string(user.uid)));
  }
  if (user.umask) ::umask(static_cast<mode_t>(*user.umask & 07777));
}

void set_no_new_privs() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("set no_new_privs");
}

void set_oom_score_adj(const ProcFs& proc, int value) {
  proc.write_file("self/oom_score_adj", std::to_string(value),
                  "set oom_score_adj " + quote(std::to_string(value)));
}

bool join_new_session_keyring(const std::string& name) {
  return join_new_session_keyring(name, !in_initial_user_namespace());
}

bool join_new_session_keyring(const std::string& name, bool in_user_namespace) {
  long serial = ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str(), 0, 0, 0);
  if (serial < 0) {
    // The keyring is a best-effort isolation (runc says the same): sandboxes
    // and seccomp profiles that refuse keyctl are not a reason to fail.
    if (errno == ENOSYS || errno == EPERM || errno == EACCES) {
      log::debug("join session keyring " + quote(name) + ": " + std::strerror(errno));
      return false;
    }
    throw_errno("join session keyring " + quote(name));
  }

  // A new keyring is only searchable by its possessor; processes joining the
  // container later (exec) need search permission to find it. runc grants it
  // to the owning user, or to "other" in a user namespace where the owner's
  // uid is not the one exec'd processes run as. Once joined, a keyring with
  // wrong permissions would be worse than none, so errors from here fail.
  char desc[1024];
  long len = ::syscall(SYS_keyctl, KEYCTL_DESCRIBE, serial, desc, sizeof desc - 1, 0);
  if (len < 0) throw_errno("describe session keyring " + quote(name));
  desc[std::min<size_t>(static_cast<size_t>(len), sizeof desc - 1)] = '\0';
  // "type;uid;gid;perm;description"
  std::string_view text(desc);
  size_t start = 0;
  for (int field = 0; field < 3; ++field) {
    start = text.find(';', start);
    if (start == std::string_view::npos) break;
    ++start;
  }
  size_t end = start == std::string_view::npos ? start : text.find(';', start);
  if (start == std::string_view::npos || end == std::string_view::npos) {
    throw Error(
        "describe session keyring " + quote(name) + ": unexpected description " + quote(text),
        EINVAL);
  }
  uint32_t perm = 0;
  try {
    perm = static_cast<uint32_t>(
        std::stoul(std::string(text.substr(start, end - start)), nullptr, 16));
  } catch (const std::exception&) {
    throw Error(
        "describe session keyring " + quote(name) + ": unexpected description " + quote(text),
        EINVAL);
  }
  perm |= in_user_namespace ? kKeyOthSearch : kKeyUsrSearch;
  if (::syscall(SYS_keyctl, KEYCTL_SETPERM, serial, perm, 0, 0) != 0) {
    throw_errno("set permissions of session keyring " + quote(name));
  }
  return true;
}

}  // namespace urun::linux
