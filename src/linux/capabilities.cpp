#include "linux/capabilities.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <bitset>
#include <cctype>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"

namespace urun::linux {
namespace {

// Capability numbers fit in 64 bits for the foreseeable future (the kernel's
// capset ABI is two 32-bit words).
using CapSet = std::bitset<64>;

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

enum class Lookup { ok, unknown_name, not_in_kernel };

struct Resolved {
  Lookup kind;
  int cap;
};

// "chown", "cap_chown" and "CAP_CHOWN" all become "CAP_CHOWN". Anything but
// letters, digits and '_' is refused so that libcap's numeric form ("12") and
// its text syntax ("all", "=ep") never sneak in as a name.
std::optional<std::string> normalise(std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::string upper;
  upper.reserve(name.size() + 4);
  bool has_alpha = false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_') return std::nullopt;
    if (std::isalpha(u)) has_alpha = true;
    upper.push_back(static_cast<char>(std::toupper(u)));
  }
  if (!has_alpha) return std::nullopt;
  if (upper.rfind("CAP_", 0) != 0) upper.insert(0, "CAP_");
  return upper;
}

Resolved resolve(std::string_view name, int last_cap) {
  auto normal = normalise(name);
  if (!normal) return {Lookup::unknown_name, -1};
  cap_value_t value = 0;
  if (cap_from_name(normal->c_str(), &value) != 0 || value < 0) return {Lookup::unknown_name, -1};
  if (value > last_cap || value >= 64) return {Lookup::not_in_kernel, -1};
  return {Lookup::ok, static_cast<int>(value)};
}

std::string cap_display_name(int cap) {
  char* raw = cap_to_name(static_cast<cap_value_t>(cap));
  if (raw == nullptr) return std::to_string(cap);
  std::string name(raw);
  cap_free(raw);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// Resolves one of the spec's sets. A name libcap does not know is a mistake in
// the config (validate should have caught it); a name the running kernel does
// not know is left out, like crun does, so a config written for a newer kernel
// still runs.
CapSet resolve_set(const std::vector<std::string>& names, std::string_view set_name, int last_cap) {
  CapSet set;
  for (const auto& name : names) {
    Resolved r = resolve(name, last_cap);
    if (r.kind == Lookup::unknown_name) {
      throw Error(
          "set " + std::string(set_name) + " capabilities: unknown capability " + quote(name),
          EINVAL);
    }
    if (r.kind == Lookup::not_in_kernel) {
      log::debug("capability " + quote(name) +
                 " is unknown to the running kernel: left out of the " + std::string(set_name) +
                 " set");
      continue;
    }
    set.set(static_cast<size_t>(r.cap));
  }
  return set;
}

CapSet current_flag(cap_t caps, cap_flag_t flag, int last_cap) {
  CapSet set;
  for (int cap = 0; cap <= last_cap && cap < 64; ++cap) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(caps, static_cast<cap_value_t>(cap), flag, &v) == 0 && v == CAP_SET) {
      set.set(static_cast<size_t>(cap));
    }
  }
  return set;
}

CapSet current_bounding(int last_cap) {
  CapSet set;
  for (int cap = 0; cap <= last_cap && cap < 64; ++cap) {
    if (cap_get_bound(static_cast<cap_value_t>(cap)) == 1) set.set(static_cast<size_t>(cap));
  }
  return set;
}

// Removes what urun itself does not hold. Asking to keep a capability we lack
// (this host's root has no CAP_SYS_RESOURCE in its bounding set, nor does a
// rootless user's namespace hold host capabilities) cannot be honoured by any
// runtime; crun leaves such capabilities out and says so at debug level, and
// so do we, rather than failing the container.
CapSet keep_available(const CapSet& wanted, const CapSet& available, std::string_view set_name) {
  CapSet missing = wanted & ~available;
  for (size_t cap = 0; cap < missing.size(); ++cap) {
    if (missing.test(cap)) {
      log::debug("capability " + quote(cap_display_name(static_cast<int>(cap))) +
                 " is not available to urun: left out of the " + std::string(set_name) + " set");
    }
  }
  return wanted & available;
}

void set_flag(cap_t caps, cap_flag_t flag, const CapSet& set, const char* set_name) {
  for (size_t cap = 0; cap < set.size(); ++cap) {
    if (!set.test(cap)) continue;
    cap_value_t value = static_cast<cap_value_t>(cap);
    if (cap_set_flag(caps, flag, 1, &value, CAP_SET) != 0) {
      throw_errno(std::string("set ") + set_name + " capability " +
                  quote(cap_display_name(static_cast<int>(cap))));
    }
  }
}

}  // namespace

int last_capability() {
  // Read once: every later lookup (including after pivot_root, when /proc may
  // be the container's or absent) uses the same kernel answer.
  static const int last = [] {
    try {
      std::string text = fs::read_file("/proc/sys/kernel/cap_last_cap");
      return std::stoi(text);
    } catch (const std::exception&) {
      // libcap probes the kernel with PR_CAPBSET_READ, which needs no /proc.
      return static_cast<int>(cap_max_bits()) - 1;
    }
  }();
  return last;
}

int capability_from_name(std::string_view name, int last_cap) {
  Resolved r = resolve(name, last_cap);
  return r.kind == Lookup::ok ? r.cap : -1;
}

int capability_from_name(std::string_view name) {
  return capability_from_name(name, last_capability());
}

void drop_bounding_set(const spec::Capabilities& caps) {
  const int last = last_capability();
  CapSet keep = resolve_set(caps.bounding, "bounding", last);
  for (int cap = 0; cap <= last && cap < 64; ++cap) {
    if (keep.test(static_cast<size_t>(cap))) continue;
    // Dropped without asking first (a start drops most of 41): the kernel refuses any drop
    // without CAP_SETPCAP, even of a capability already absent (e.g. CAP_SYS_RESOURCE on this
    // host), and only then is its absence looked up, so that it is no error.
    if (cap_drop_bound(static_cast<cap_value_t>(cap)) != 0) {
      const int err = errno;
      if (cap_get_bound(static_cast<cap_value_t>(cap)) == 0) continue;
      throw_errno("drop capability " + quote(cap_display_name(cap)) + " from the bounding set",
                  err);
    }
  }
}

void apply_capabilities(const spec::Capabilities& caps) {
  const int last = last_capability();
  CapSet effective = resolve_set(caps.effective, "effective", last);
  CapSet permitted = resolve_set(caps.permitted, "permitted", last);
  CapSet inheritable = resolve_set(caps.inheritable, "inheritable", last);
  CapSet ambient = resolve_set(caps.ambient, "ambient", last);

  // runc and crun hand the sets to capset(2) as given, and the kernel refuses
  // an effective capability outside the permitted set with EPERM, failing the
  // container. We refuse the same configs, but name the capability at fault.
  CapSet stray = effective & ~permitted;
  for (size_t cap = 0; cap < stray.size(); ++cap) {
    if (stray.test(cap)) {
      throw Error("set capabilities: effective capability " +
                      quote(cap_display_name(static_cast<int>(cap))) +
                      " is not in the permitted set: Operation not permitted",
                  EPERM);
    }
  }

  CapPtr current(cap_get_proc());
  if (!current) throw_errno("get capabilities");
  CapSet held = current_flag(current.get(), CAP_PERMITTED, last);
  CapSet held_inheritable = current_flag(current.get(), CAP_INHERITABLE, last);
  // After the switch to a non-root user the effective set is empty, so the
  // kernel only lets the inheritable set grow within permitted and bounding.
  // The bounding set (one syscall per capability) is read only when the set grows.
  CapSet inheritable_ok = held_inheritable;
  if ((inheritable & ~held_inheritable).any()) inheritable_ok |= held & current_bounding(last);

  permitted = keep_available(permitted, held, "permitted");
  effective = keep_available(effective, held, "effective");
  inheritable = keep_available(inheritable, inheritable_ok, "inheritable");

  CapPtr wanted(cap_init());
  if (!wanted) throw_errno("set capabilities");
  set_flag(wanted.get(), CAP_PERMITTED, permitted, "permitted");
  set_flag(wanted.get(), CAP_EFFECTIVE, effective, "effective");
  set_flag(wanted.get(), CAP_INHERITABLE, inheritable, "inheritable");

  // Clear ambient first: the process must end up with exactly the listed
  // ambient capabilities, not those it inherited from urun's caller.
  // One prctl: libcap's cap_reset_ambient first asks for each capability in turn.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      !(errno == EINVAL && ambient.none())) {
    throw_errno("clear ambient capabilities");
  }
  if (cap_set_proc(wanted.get()) != 0) throw_errno("set capabilities");

  // The kernel raises an ambient capability only when it is both permitted
  // and inheritable; crun ignores the EPERM of the others, we leave them out
  // before asking and say so at debug level.
  CapSet raisable = keep_available(ambient, permitted & inheritable, "ambient");
  for (size_t cap = 0; cap < raisable.size(); ++cap) {
    if (!raisable.test(cap)) continue;
    if (cap_set_ambient(static_cast<cap_value_t>(cap), CAP_SET) != 0) {
      throw_errno("raise ambient capability " + quote(cap_display_name(static_cast<int>(cap))));
    }
  }
}

}  // namespace urun::linux

namespace urun::linux {

std::vector<std::string> known_capability_names() {
  // libcap's own table (the names it was built with), whatever the running kernel has:
  // `features` tells what urun understands; a capability the kernel lacks is left out
  // with a debug message when applied (see apply_capabilities).
  std::vector<std::string> out;
  for (cap_value_t v = 0; v < 64; ++v) {
    std::unique_ptr<char, CapFree> name(cap_to_name(v));
    if (!name || !std::isalpha(static_cast<unsigned char>(name.get()[0]))) continue;
    std::string upper;
    for (const char* p = name.get(); *p; ++p)
      upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(*p))));
    out.push_back(std::move(upper));
  }
  return out;
}

}  // namespace urun::linux
