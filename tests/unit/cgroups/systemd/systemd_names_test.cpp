// The pure rules of the systemd cgroup manager: cgroupsPath slice:prefix:name and its
// defaults, unit-name escaping, slice nesting, bus addresses, the subgroup annotation,
// and the unit properties made from resources.
#include "cgroups/systemd/systemd_names.hpp"

#include <gtest/gtest.h>

#include <map>

#include "cgroups/systemd/systemd_manager.hpp"
#include "common/error.hpp"

namespace {

namespace cg = urun::cgroups;
namespace sd = urun::cgroups::systemd;

sd::UnitPlace place(const std::optional<std::string>& p, bool rootless = false) {
  return sd::place_from_cgroups_path(p, "c1", rootless);
}

TEST(SystemdNames, SlicePrefixNameForms) {
  auto p = place("machine.slice:libpod:abc");
  EXPECT_EQ(p.slice, "machine.slice");
  EXPECT_EQ(p.unit, "libpod-abc.scope");
  p = place("machine-libpod.slice::abc");
  EXPECT_EQ(p.slice, "machine-libpod.slice");
  EXPECT_EQ(p.unit, "abc.scope");
  p = place("-.slice:p:n");
  EXPECT_EQ(p.slice, "-.slice");
  EXPECT_EQ(p.unit, "p-n.scope");
}

TEST(SystemdNames, DefaultsDependOnRootless) {
  EXPECT_EQ(place(":urun:x").slice, "system.slice");
  EXPECT_EQ(place(":urun:x", true).slice, "user.slice");
  EXPECT_EQ(place(":urun:x").unit, "urun-x.scope");
  auto p = place(std::nullopt);
  EXPECT_EQ(p.slice, "system.slice");
  EXPECT_EQ(p.unit, "urun-c1.scope");
  p = place("", true);
  EXPECT_EQ(p.slice, "user.slice");
  EXPECT_EQ(p.unit, "urun-c1.scope");
}

TEST(SystemdNames, UnusablePathsAreErrorsNamingThePath) {
  for (const char* bad : {"/abs/path", "rel", "a:b", "a:b:c:d", "system.slice:p:", "x.slice:p:a/b",
                          "notaslice:p:n", "a--b.slice:p:n", "-a.slice:p:n", "a-.slice:p:n",
                          "s.slice:p:inner.slice", "bad/x.slice:p:n"}) {
    try {
      place(std::string(bad));
      ADD_FAILURE() << bad << " was accepted";
    } catch (const urun::Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("cgroupsPath `") + bad + "`"),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(SystemdNames, EscapesWhatUnitNamesCannotHold) {
  EXPECT_EQ(sd::escape_unit_part("abc-DEF_1:2.x"), "abc-DEF_1:2.x");
  EXPECT_EQ(sd::escape_unit_part("a+b"), "a\\x2bb");
  EXPECT_EQ(sd::escape_unit_part("a b\\"), "a\\x20b\\x5c");
  EXPECT_EQ(sd::escape_unit_part(".hidden"), "\\x2ehidden");
  EXPECT_EQ(sd::escape_unit_part("x.y"), "x.y");
  // The container id and the prefix/name parts go through it.
  EXPECT_EQ(sd::place_from_cgroups_path(std::nullopt, "a+b", false).unit, "urun-a\\x2bb.scope");
  EXPECT_EQ(place("s.slice:p q:n").unit, "p\\x20q-n.scope");
}

TEST(SystemdNames, SliceExpansionNestsAtEachDash) {
  EXPECT_EQ(sd::expand_slice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
  EXPECT_EQ(sd::expand_slice("system.slice"), "/system.slice");
  EXPECT_EQ(sd::expand_slice("user-1001.slice"), "/user.slice/user-1001.slice");
  EXPECT_EQ(sd::expand_slice("-.slice"), "");
  EXPECT_THROW(sd::expand_slice("a.scope"), urun::Error);
  EXPECT_THROW(sd::expand_slice(".slice"), urun::Error);
  EXPECT_THROW(sd::expand_slice("a/b.slice"), urun::Error);
}

TEST(SystemdNames, CgroupfsFallbackPath) {
  EXPECT_EQ(sd::cgroupfs_path_for("machine-libpod.slice:libpod:abc", false),
            "/machine.slice/machine-libpod.slice/libpod-abc.scope");
  EXPECT_EQ(sd::cgroupfs_path_for(":p:n", true), "/user.slice/p-n.scope");
  EXPECT_EQ(sd::cgroupfs_path_for("-.slice::n", false), "/n.scope");
  EXPECT_EQ(sd::cgroupfs_path_for("a.slice:p:b.slice", false), "/a.slice/b.slice");
  EXPECT_EQ(sd::cgroupfs_path_for("/plain/path", false), "/plain/path");
  EXPECT_EQ(sd::cgroupfs_path_for("rel", false), "rel");
}

TEST(SystemdNames, BusAddressDefaultsAndOverrides) {
  std::map<std::string, std::string> env;
  auto get = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_EQ(sd::bus_address("", false, get), "unix:path=/run/dbus/system_bus_socket");
  EXPECT_EQ(sd::bus_address("", true, get), "");  // no runtime dir: no user bus
  env["XDG_RUNTIME_DIR"] = "/run/user/1001";
  EXPECT_EQ(sd::bus_address("", true, get), "unix:path=/run/user/1001/bus");
  env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/tmp/s";
  EXPECT_EQ(sd::bus_address("", true, get), "unix:path=/tmp/s");
  env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=/tmp/sys";
  EXPECT_EQ(sd::bus_address("", false, get), "unix:path=/tmp/sys");
  EXPECT_EQ(sd::bus_address("/x/bus", false, get), "unix:path=/x/bus");
  EXPECT_EQ(sd::bus_address("unix:abstract=q", true, get), "unix:abstract=q");
  EXPECT_EQ(sd::bus_socket_path("unix:path=/a/b,guid=1;tcp:host=x"), "/a/b");
  EXPECT_EQ(sd::bus_socket_path("unix:abstract=q"), "");
}

TEST(SystemdNames, SubgroupDefaultsPerManual) {
  EXPECT_EQ(sd::subgroup_name(std::nullopt, true), "container");
  EXPECT_EQ(sd::subgroup_name(std::nullopt, false), "");
  EXPECT_EQ(sd::subgroup_name(std::string(""), true), "");
  EXPECT_EQ(sd::subgroup_name(std::string("app"), false), "app");
  EXPECT_THROW(sd::subgroup_name(std::string("a/b"), true), urun::Error);
  EXPECT_THROW(sd::subgroup_name(std::string(".."), true), urun::Error);
}

std::map<std::string, std::string> flatten(const std::vector<sd::Property>& props) {
  std::map<std::string, std::string> out;
  for (const auto& p : props) {
    std::string v;
    if (auto* b = std::get_if<bool>(&p.value)) v = *b ? "true" : "false";
    if (auto* t = std::get_if<uint64_t>(&p.value)) v = std::to_string(*t);
    if (auto* s = std::get_if<std::string>(&p.value)) v = *s;
    if (auto* au = std::get_if<std::vector<uint32_t>>(&p.value))
      for (uint32_t x : *au) v += (v.empty() ? "" : ",") + std::to_string(x);
    out[p.name] = v;
  }
  return out;
}

TEST(SystemdProperties, ResourcesBecomeUnitProperties) {
  cg::Resources r;
  r.memory = cg::MemoryResources{};
  r.memory->limit = 1 << 30;
  r.memory->reservation = 1 << 20;
  r.pids = cg::PidsResources{100};
  r.cpu = cg::CpuResources{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50001;  // 50.001% -> rounded up to whole percent: 510000us per second
  r.cpu->period = 100000;
  auto v2 = flatten(cg::resource_properties(r, true));
  EXPECT_EQ(v2["MemoryMax"], "1073741824");
  EXPECT_EQ(v2["MemoryLow"], "1048576");
  EXPECT_EQ(v2["TasksMax"], "100");
  EXPECT_EQ(v2["CPUWeight"], "39");  // 1 + (1022 * 9999) / 262142
  EXPECT_EQ(v2.count("CPUShares"), 0u);
  EXPECT_EQ(v2["CPUQuotaPerSecUSec"], "510000");
  EXPECT_EQ(v2["CPUQuotaPeriodUSec"], "100000");
  auto v1 = flatten(cg::resource_properties(r, false));
  EXPECT_EQ(v1["CPUShares"], "1024");
  EXPECT_EQ(v1.count("CPUWeight"), 0u);
  // Unlimited and unset values are left to systemd's defaults.
  r.memory->limit = -1;
  r.pids->limit = 0;
  r.cpu->shares = 0;
  r.cpu->quota = -1;
  auto none = flatten(cg::resource_properties(r, true));
  EXPECT_EQ(none.count("MemoryMax") + none.count("TasksMax") + none.count("CPUWeight") +
                none.count("CPUQuotaPerSecUSec"),
            0u);
}

TEST(SystemdProperties, ScopeCarriesPidDelegateSliceAndDescription) {
  cg::SystemdConfig c;
  c.slice = "machine.slice";
  c.unit = "p-n.scope";
  c.description = "urun container n";
  cg::Resources r;
  r.pids = cg::PidsResources{5};
  auto p = flatten(cg::scope_properties(c, 4242, r));
  EXPECT_EQ(p["PIDs"], "4242");
  EXPECT_EQ(p["Delegate"], "true");
  EXPECT_EQ(p["Slice"], "machine.slice");
  EXPECT_EQ(p["Description"], "urun container n");
  EXPECT_EQ(p["DefaultDependencies"], "false");
  EXPECT_EQ(p["TasksAccounting"], "true");
  EXPECT_EQ(p["TasksMax"], "5");
  EXPECT_EQ(p.count("MemoryAccounting"), 0u);
}

}  // namespace
