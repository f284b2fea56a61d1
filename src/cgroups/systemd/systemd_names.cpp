#include "cgroups/systemd/systemd_names.hpp"

#include <cstdio>

#include "common/error.hpp"

namespace urun::cgroups::systemd {
namespace {

constexpr std::string_view kSliceSuffix = ".slice";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '_' || c == '.' || c == '-';
}

struct Parts {
  std::string slice, prefix, name;
};

Parts split(const std::string& path) {
  const size_t a = path.find(':');
  const size_t b = path.find(':', a + 1);
  return {path.substr(0, a), path.substr(a + 1, b - a - 1), path.substr(b + 1)};
}

void check_name(const Parts& p, const std::string& what) {
  if (p.name.empty() || p.name.find('/') != std::string::npos ||
      p.prefix.find('/') != std::string::npos)
    throw Error(what + ": the prefix and name must be plain unit names", EINVAL);
}

}  // namespace

bool is_systemd_cgroups_path(std::string_view path) {
  size_t colons = 0;
  for (char c : path) colons += c == ':';
  return colons == 2 && !path.empty() && path.front() != '/';
}

std::string default_slice(bool rootless) { return rootless ? "user.slice" : "system.slice"; }

std::string escape_unit_part(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (unit_char(c) && !(i == 0 && c == '.')) {
      out += c;
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

void check_slice_name(const std::string& slice, const std::string& what) {
  auto bad = [&](const std::string& why) {
    throw Error(what + ": " + quote(slice) + " is not a slice name (" + why + ")", EINVAL);
  };
  if (slice == "-.slice") return;
  if (!ends_with(slice, kSliceSuffix) || slice.size() == kSliceSuffix.size())
    bad("it must end in .slice");
  const std::string stem = slice.substr(0, slice.size() - kSliceSuffix.size());
  for (char c : stem)
    if (!unit_char(c) && c != '\\') bad(std::string("character ") + quote(std::string(1, c)));
  if (stem.front() == '-' || stem.back() == '-' || stem.find("--") != std::string::npos)
    bad("a '-' must separate two parent names");
}

std::string expand_slice(const std::string& slice, const std::string& what) {
  check_slice_name(slice, what);
  if (slice == "-.slice") return "";
  const std::string stem = slice.substr(0, slice.size() - kSliceSuffix.size());
  std::string out;
  for (size_t pos = stem.find('-'); pos != std::string::npos; pos = stem.find('-', pos + 1))
    out += "/" + stem.substr(0, pos) + std::string(kSliceSuffix);
  return out + "/" + slice;
}

UnitPlace place_from_cgroups_path(const std::optional<std::string>& cgroups_path,
                                  const std::string& container_id, bool rootless) {
  if (!cgroups_path || cgroups_path->empty())
    return {default_slice(rootless), "urun-" + escape_unit_part(container_id) + ".scope"};
  const std::string what = "cgroupsPath " + quote(*cgroups_path);
  if (!is_systemd_cgroups_path(*cgroups_path))
    throw Error(what + ": the systemd cgroup manager expects slice:prefix:name", EINVAL);
  Parts p = split(*cgroups_path);
  check_name(p, what);
  if (ends_with(p.name, kSliceSuffix))
    throw Error(what +
                    ": the name must be a scope, not a slice (the container's processes "
                    "need a scope)",
                EINVAL);
  if (p.slice.empty()) p.slice = default_slice(rootless);
  check_slice_name(p.slice, what);
  std::string unit = p.prefix.empty() ? escape_unit_part(p.name)
                                      : escape_unit_part(p.prefix) + "-" + escape_unit_part(p.name);
  return {p.slice, unit + ".scope"};
}

std::string cgroupfs_path_for(const std::string& cgroups_path, bool rootless) {
  if (!is_systemd_cgroups_path(cgroups_path)) return cgroups_path;
  const std::string what = "cgroupsPath " + quote(cgroups_path);
  Parts p = split(cgroups_path);
  check_name(p, what);
  if (p.slice.empty()) p.slice = default_slice(rootless);
  std::string unit = ends_with(p.name, kSliceSuffix)
                         ? p.name
                         : (p.prefix.empty() ? p.name : p.prefix + "-" + p.name) + ".scope";
  return expand_slice(p.slice, what) + "/" + unit;
}

std::string bus_address(const std::string& override, bool rootless,
                        const std::function<const char*(const char*)>& getenv) {
  if (!override.empty())
    return override.find('=') == std::string::npos ? "unix:path=" + override : override;
  auto env = [&](const char* name) {
    const char* v = getenv(name);
    return std::string(v ? v : "");
  };
  if (!rootless) {
    std::string a = env("DBUS_SYSTEM_BUS_ADDRESS");
    return a.empty() ? "unix:path=/run/dbus/system_bus_socket" : a;
  }
  std::string a = env("DBUS_SESSION_BUS_ADDRESS");
  if (!a.empty()) return a;
  std::string dir = env("XDG_RUNTIME_DIR");
  return dir.empty() ? "" : "unix:path=" + dir + "/bus";
}

std::string bus_socket_path(const std::string& address) {
  constexpr std::string_view kPrefix = "unix:path=";
  if (address.compare(0, kPrefix.size(), kPrefix) != 0) return "";
  std::string path = address.substr(kPrefix.size());
  // A D-Bus address may list further keys (",guid=...") and several addresses (";").
  return path.substr(0, path.find_first_of(",;"));
}

std::string subgroup_name(const std::optional<std::string>& annotation, bool unified) {
  if (!annotation) return unified ? "container" : "";
  const std::string& s = *annotation;
  if (s.find('/') != std::string::npos || s == "." || s == "..")
    throw Error("run.oci.systemd.subgroup " + quote(s) + ": must be a plain name", EINVAL);
  return s;
}

}  // namespace urun::cgroups::systemd
