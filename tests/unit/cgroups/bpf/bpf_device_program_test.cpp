// The cgroup v2 device program: its structure, and what it decides, run through a small
// interpreter of the instructions it uses and compared with the rule semantics of
// bpf_device_program.hpp written out plainly below.
#include "cgroups/bpf/bpf_device_program.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <set>

#include "common/error.hpp"
#include "container/cgroup.hpp"

namespace {

namespace cg = urun::cgroups;
using nlohmann::json;

constexpr uint32_t R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
constexpr uint32_t kChar = BPF_DEVCG_DEV_CHAR, kBlock = BPF_DEVCG_DEV_BLOCK;

struct Request {
  uint32_t type;
  uint32_t major;
  uint32_t minor;
  uint32_t access;
};

// Runs the program as the kernel would on a bpf_cgroup_dev_ctx. Fails the test on an
// instruction outside the few the generator should use, or on a jump out of bounds.
int64_t run(const std::vector<bpf_insn>& prog, const Request& req) {
  const uint32_t ctx[3] = {req.access << 16 | req.type, req.major, req.minor};
  uint64_t reg[11] = {};
  const uint64_t kCtxMarker = 0xc0c0c0c0;
  reg[1] = kCtxMarker;
  for (size_t pc = 0, steps = 0; steps < 100000; ++steps) {
    if (pc >= prog.size()) {
      ADD_FAILURE() << "fell off the end at " << pc;
      return -1;
    }
    const bpf_insn& i = prog[pc];
    const uint64_t imm64 = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    uint64_t& dst = reg[i.dst_reg];
    switch (i.code) {
      case BPF_LDX | BPF_W | BPF_MEM:
        if (reg[i.src_reg] != kCtxMarker || i.off < 0 || i.off > 8 || i.off % 4) {
          ADD_FAILURE() << "bad context load at " << pc;
          return -1;
        }
        dst = ctx[i.off / 4];  // zero-extended
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        dst = static_cast<uint32_t>(dst) & static_cast<uint32_t>(i.imm);
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        dst = static_cast<uint32_t>(dst) >> i.imm;
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        dst = static_cast<uint32_t>(reg[i.src_reg]);
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        dst = imm64;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (dst != imm64) pc += i.off;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        if (dst == imm64) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int64_t>(reg[0]);
      default:
        ADD_FAILURE() << "unexpected opcode " << int(i.code) << " at " << pc;
        return -1;
    }
    ++pc;
  }
  ADD_FAILURE() << "no exit";
  return -1;
}

// What the verifier also insists on, checked without a kernel: forward jumps inside the
// program, every instruction reachable, the last one an exit.
void check_structure(const std::vector<bpf_insn>& prog) {
  ASSERT_FALSE(prog.empty());
  EXPECT_EQ(prog.back().code, BPF_JMP | BPF_EXIT);
  std::set<size_t> reached = {0};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    if (!reached.count(pc)) {
      ADD_FAILURE() << "unreachable instruction " << pc;
      continue;
    }
    const bpf_insn& i = prog[pc];
    if (i.code == (BPF_JMP | BPF_EXIT)) continue;
    reached.insert(pc + 1);
    if (BPF_CLASS(i.code) == BPF_JMP) {
      EXPECT_GT(i.off, 0) << "jump at " << pc;
      EXPECT_LT(pc + 1 + i.off, prog.size()) << "jump at " << pc;
      reached.insert(pc + 1 + i.off);
    }
  }
}

// The semantics in plain code: per access bit, the last rule matching the device and
// naming the bit decides; undecided bits are denied.
bool reference(const std::vector<cg::DeviceRule>& rules, const Request& req) {
  for (uint32_t bit : {R, W, M}) {
    if (!(req.access & bit)) continue;
    bool allowed = false;
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
      const auto& r = *it;
      if (r.type == "c" && req.type != kChar) continue;
      if (r.type == "b" && req.type != kBlock) continue;
      if (r.major && static_cast<uint32_t>(*r.major) != req.major) continue;
      if (r.minor && static_cast<uint32_t>(*r.minor) != req.minor) continue;
      const char letter = bit == R ? 'r' : bit == W ? 'w' : 'm';
      if (r.access.find(letter) == std::string::npos) continue;
      allowed = r.allow;
      break;
    }
    if (!allowed) return false;
  }
  return true;
}

cg::DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major,
                    std::optional<int64_t> minor, std::string access) {
  cg::DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}
cg::DeviceRule allow(std::string t, std::optional<int64_t> ma, std::optional<int64_t> mi,
                     std::string a = "rwm") {
  return rule(true, std::move(t), ma, mi, std::move(a));
}
cg::DeviceRule deny(std::string t, std::optional<int64_t> ma, std::optional<int64_t> mi,
                    std::string a = "rwm") {
  return rule(false, std::move(t), ma, mi, std::move(a));
}

bool allowed(const std::vector<cg::DeviceRule>& rules, Request req) {
  const auto prog = cg::device_program(rules);
  check_structure(prog);
  const int64_t got = run(prog, req);
  EXPECT_TRUE(got == 0 || got == 1) << got;
  EXPECT_EQ(got == 1, reference(rules, req))
      << "type " << req.type << " " << req.major << ":" << req.minor << " access " << req.access;
  return got == 1;
}

// Instructions as raw 64-bit words, to compare programs.
std::vector<uint64_t> words(const std::vector<bpf_insn>& prog) {
  std::vector<uint64_t> out(prog.size());
  static_assert(sizeof(bpf_insn) == sizeof(uint64_t));
  std::memcpy(out.data(), prog.data(), prog.size() * sizeof(bpf_insn));
  return out;
}

const Request null_rw{kChar, 1, 3, R | W};
const Request zero_r{kChar, 1, 5, R};

TEST(BpfDeviceProgram, NoRulesDeniesEverything) {
  EXPECT_FALSE(allowed({}, null_rw));
  EXPECT_FALSE(allowed({}, {kBlock, 8, 0, M}));
}

TEST(BpfDeviceProgram, DenyAllThenAllowOneDevice) {
  const std::vector<cg::DeviceRule> rules = {deny("a", {}, {}), allow("c", 1, 3)};
  EXPECT_TRUE(allowed(rules, null_rw));
  EXPECT_TRUE(allowed(rules, {kChar, 1, 3, M}));
  EXPECT_FALSE(allowed(rules, zero_r));
  EXPECT_FALSE(allowed(rules, {kBlock, 1, 3, R}));  // same numbers, other type
  EXPECT_FALSE(allowed(rules, {kChar, 2, 3, R}));
  // The leading deny-all decides as much as the final default: it is left out, and the
  // program is the prologue, one rule of checks and a return, and the default.
  EXPECT_EQ(cg::device_program(rules).size(), cg::device_program({allow("c", 1, 3)}).size());
}

TEST(BpfDeviceProgram, LastMatchingRuleWins) {
  const std::vector<cg::DeviceRule> deny_last = {allow("c", 1, 3), deny("c", 1, 3, "w")};
  EXPECT_TRUE(allowed(deny_last, {kChar, 1, 3, R}));
  EXPECT_FALSE(allowed(deny_last, {kChar, 1, 3, W}));
  EXPECT_FALSE(allowed(deny_last, null_rw));
  EXPECT_TRUE(allowed(deny_last, {kChar, 1, 3, M}));

  const std::vector<cg::DeviceRule> allow_last = {deny("c", 1, 3, "w"), allow("c", 1, 3)};
  EXPECT_TRUE(allowed(allow_last, null_rw));

  const std::vector<cg::DeviceRule> deny_all_last = {allow("c", 1, 3), deny("a", {}, {})};
  EXPECT_FALSE(allowed(deny_all_last, null_rw));
  // A final deny-all makes every earlier rule dead: the program is the one of no rules.
  EXPECT_EQ(words(cg::device_program(deny_all_last)), words(cg::device_program({})));
}

TEST(BpfDeviceProgram, AllowAllEndsTheProgram) {
  const std::vector<cg::DeviceRule> rules = {deny("c", 1, 3), allow("a", {}, {})};
  EXPECT_TRUE(allowed(rules, null_rw));
  EXPECT_TRUE(allowed(rules, {kBlock, 259, 0, R | W | M}));
  // Nothing after the allow-all: the deny before it is not in the program.
  EXPECT_EQ(words(cg::device_program(rules)), words(cg::device_program({allow("a", {}, {})})));
}

TEST(BpfDeviceProgram, Wildcards) {
  const std::vector<cg::DeviceRule> rules = {deny("a", {}, {}), allow("c", 136, {}),
                                             allow("b", {}, 0, "r"), allow("a", 10, 200)};
  EXPECT_TRUE(allowed(rules, {kChar, 136, 0, R | W}));
  EXPECT_TRUE(allowed(rules, {kChar, 136, 99, R | W}));
  EXPECT_FALSE(allowed(rules, {kBlock, 136, 0, W}));
  EXPECT_TRUE(allowed(rules, {kBlock, 8, 0, R}));
  EXPECT_TRUE(allowed(rules, {kBlock, 259, 0, R}));
  EXPECT_FALSE(allowed(rules, {kBlock, 8, 1, R}));
  EXPECT_FALSE(allowed(rules, {kBlock, 8, 0, R | W}));
  EXPECT_TRUE(allowed(rules, {kChar, 10, 200, R | W}));  // type a: either type
  EXPECT_TRUE(allowed(rules, {kBlock, 10, 200, M}));
}

TEST(BpfDeviceProgram, MinusOneFromTheConfigIsAWildcard) {
  const cg::Resources r = cg::parse_resources(json{
      {"devices",
       json::array(
           {{{"allow", false}, {"access", "rwm"}},
            {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", -1}, {"access", "r"}}})}});
  EXPECT_TRUE(allowed(r.devices, {kChar, 1, 7, R}));
  EXPECT_FALSE(allowed(r.devices, {kChar, 1, 7, W}));
  EXPECT_FALSE(allowed(r.devices, {kChar, 2, 7, R}));
}

TEST(BpfDeviceProgram, AccessBitsCombineAcrossRules) {
  const std::vector<cg::DeviceRule> rules = {deny("a", {}, {}), allow("c", 1, 3, "r"),
                                             allow("c", 1, {}, "w")};
  EXPECT_TRUE(allowed(rules, {kChar, 1, 3, R}));
  EXPECT_TRUE(allowed(rules, {kChar, 1, 3, W}));
  EXPECT_TRUE(allowed(rules, null_rw));  // r from one rule, w from the other
  EXPECT_FALSE(allowed(rules, {kChar, 1, 3, M}));
  EXPECT_FALSE(allowed(rules, {kChar, 1, 5, R | W}));  // only w for 1:5
  EXPECT_TRUE(allowed(rules, {kChar, 1, 5, W}));
}

TEST(BpfDeviceProgram, DenyOfOneBitLeavesTheOthers) {
  const std::vector<cg::DeviceRule> rules = {allow("a", {}, {}), deny("c", 1, 3, "m")};
  EXPECT_TRUE(allowed(rules, null_rw));
  EXPECT_FALSE(allowed(rules, {kChar, 1, 3, M}));
  EXPECT_FALSE(allowed(rules, {kChar, 1, 3, R | M}));
  EXPECT_TRUE(allowed(rules, {kChar, 1, 5, M}));
}

TEST(BpfDeviceProgram, ErrorsNameTheRule) {
  try {
    cg::device_program({allow("c", int64_t{1} << 31, 0)});
    ADD_FAILURE() << "no error";
  } catch (const urun::Error& e) {
    EXPECT_EQ(std::string(e.what()), "device rule `allow c 2147483648:0 rwm`: major out of range");
  }
  EXPECT_THROW(cg::device_program({allow("c", 1, 3, "rx")}), urun::Error);
  EXPECT_THROW(cg::device_program({allow("p", 1, 3)}), urun::Error);
  EXPECT_NO_THROW(cg::device_program({allow("c", INT32_MAX, INT32_MAX)}));
}

TEST(BpfDeviceProgram, HasDenyRule) {
  EXPECT_FALSE(cg::has_deny_rule({}));
  EXPECT_FALSE(cg::has_deny_rule({allow("c", 1, 3)}));
  EXPECT_TRUE(cg::has_deny_rule({allow("c", 1, 3), deny("a", {}, {})}));
}

// Random rule lists against the plain semantics, over a small space of devices where
// rules and requests collide often.
TEST(BpfDeviceProgram, MatchesTheSemanticsOnRandomRules) {
  std::mt19937 rng(12345);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const char* types[] = {"a", "b", "c"};
  const char* accesses[] = {"r", "w", "m", "rw", "rm", "wm", "rwm", "rwm"};
  for (int round = 0; round < 300; ++round) {
    std::vector<cg::DeviceRule> rules;
    for (int n = pick(7); n > 0; --n) {
      auto num = [&]() -> std::optional<int64_t> {
        int v = pick(4);
        return v == 3 ? std::nullopt : std::optional<int64_t>(v);
      };
      rules.push_back(rule(pick(2) == 0, types[pick(3)], num(), num(), accesses[pick(8)]));
    }
    const auto prog = cg::device_program(rules);
    check_structure(prog);
    for (uint32_t type : {kChar, kBlock})
      for (uint32_t major = 0; major < 3; ++major)
        for (uint32_t minor = 0; minor < 3; ++minor)
          for (uint32_t access = 1; access <= 7; ++access) {
            const Request req{type, major, minor, access};
            ASSERT_EQ(run(prog, req) == 1, reference(rules, req))
                << "round " << round << " type " << type << " " << major << ":" << minor
                << " access " << access;
          }
  }
}

// The defaults of runc and crun 1.20+ (container/cgroup.hpp) after a config's "deny all":
// mknod of any node, read/write of the standard nodes, ptys and tun only.
TEST(DeviceProgram, DefaultRulesAfterDenyAll) {
  urun::cgroups::Resources r;
  r.devices.push_back(deny("a", {}, {}));
  urun::container::add_default_devices(r, nullptr);
  EXPECT_TRUE(allowed(r.devices, {kChar, 10, 237, M}));   // c *:* m
  EXPECT_TRUE(allowed(r.devices, {kBlock, 7, 0, M}));     // b *:* m
  EXPECT_FALSE(allowed(r.devices, {kChar, 10, 237, R}));  // loop-control
  EXPECT_FALSE(allowed(r.devices, {kBlock, 7, 0, R | W}));
  EXPECT_TRUE(allowed(r.devices, {kChar, 10, 200, R | W}));  // /dev/net/tun
  EXPECT_TRUE(allowed(r.devices, {kChar, 5, 2, R | W}));     // /dev/ptmx
  EXPECT_TRUE(allowed(r.devices, {kChar, 136, 7, R | W}));   // /dev/pts/7
  EXPECT_TRUE(allowed(r.devices, {kChar, 5, 1, R | W}));     // /dev/console
  for (uint32_t minor : {3u, 5u, 7u, 8u, 9u})
    EXPECT_TRUE(allowed(r.devices, {kChar, 1, minor, R | W}));
  EXPECT_TRUE(allowed(r.devices, {kChar, 5, 0, R | W}));  // /dev/tty
  EXPECT_EQ(urun::container::default_device_rules().size(), 12u);
}

}  // namespace
