#include "cgroups/bpf/bpf_device_program.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace urun::cgroups {
namespace {

// Registers: R1 holds the context on entry (struct bpf_cgroup_dev_ctx), then serves as
// scratch; R2 device type, R3 requested access bits still undecided, R4 major, R5 minor.
constexpr uint8_t kCtx = BPF_REG_1, kTmp = BPF_REG_1, kType = BPF_REG_2, kAccess = BPF_REG_3,
                  kMajor = BPF_REG_4, kMinor = BPF_REG_5;
constexpr int32_t kAllAccess = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn load_u32(uint8_t dst, int16_t off) {
  return insn(BPF_LDX | BPF_W | BPF_MEM, dst, kCtx, off, 0);
}
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov32_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn mov64_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn jump_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

void emit_return(std::vector<bpf_insn>& out, bool allow) {
  out.push_back(mov64_imm(BPF_REG_0, allow ? 1 : 0));
  out.push_back(exit_insn());
}

std::string describe(const DeviceRule& r) {
  auto num = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "*"; };
  return std::string(r.allow ? "allow " : "deny ") + r.type + " " + num(r.major) + ":" +
         num(r.minor) + " " + r.access;
}

int32_t access_bits(const DeviceRule& r) {
  int32_t bits = 0;
  for (char c : r.access) {
    switch (c) {
      case 'r':
        bits |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        bits |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        bits |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        throw Error(
            "device rule " + quote(describe(r)) + ": access must be a combination of r, w, m",
            EINVAL);
    }
  }
  return bits;
}

// The immediate of a comparison is a sign-extended 32-bit value while the register holds
// the zero-extended u32 from the context: only values up to INT32_MAX compare right.
int32_t device_number(const DeviceRule& r, int64_t v, const char* what) {
  if (v < 0 || v > INT32_MAX)
    throw Error("device rule " + quote(describe(r)) + ": " + what + " out of range", EINVAL);
  return static_cast<int32_t>(v);
}

}  // namespace

bool has_deny_rule(const std::vector<DeviceRule>& rules) {
  for (const auto& r : rules)
    if (!r.allow && !r.access.empty()) return true;
  return false;
}

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> out;
  // The type is the low half of access_type and the access the high half. A 32-bit
  // load plus a mask reads the type on either byte order (a 16-bit load would not).
  out.push_back(load_u32(kType, offsetof(bpf_cgroup_dev_ctx, access_type)));
  out.push_back(alu32_imm(BPF_AND, kType, 0xffff));
  out.push_back(load_u32(kAccess, offsetof(bpf_cgroup_dev_ctx, access_type)));
  out.push_back(alu32_imm(BPF_RSH, kAccess, 16));
  out.push_back(load_u32(kMajor, offsetof(bpf_cgroup_dev_ctx, major)));
  out.push_back(load_u32(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)));
  // A request for no access at all has nothing to deny. The kernel does not make one
  // today; deciding it here keeps the rules below simple (R3 is never 0 in them).
  out.push_back(jump_imm(BPF_JNE, kAccess, 0, 2));
  emit_return(out, true);

  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const DeviceRule& r = *it;
    const int32_t access = access_bits(r);
    if (access == 0) continue;  // decides nothing
    if (r.type != "a" && r.type != "b" && r.type != "c")
      throw Error("device rule " + quote(describe(r)) + ": type must be a, b or c", EINVAL);

    // The checks jump to the next rule's block on a mismatch: their offsets are the
    // number of instructions left in this block after the jump.
    std::vector<bpf_insn> checks;
    if (r.type != "a")
      checks.push_back(
          jump_imm(BPF_JNE, kType, r.type == "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
    if (r.major)
      checks.push_back(jump_imm(BPF_JNE, kMajor, device_number(r, *r.major, "major"), 0));
    if (r.minor)
      checks.push_back(jump_imm(BPF_JNE, kMinor, device_number(r, *r.minor, "minor"), 0));

    std::vector<bpf_insn> decide;
    const bool final_rule = access == kAllAccess;  // decides every bit it reaches
    if (!r.allow && final_rule) {
      emit_return(decide, false);
    } else if (!r.allow) {
      decide.push_back(mov32_reg(kTmp, kAccess));
      decide.push_back(alu32_imm(BPF_AND, kTmp, access));
      decide.push_back(jump_imm(BPF_JEQ, kTmp, 0, 2));  // none of its bits requested
      emit_return(decide, false);
    } else if (final_rule) {
      emit_return(decide, true);
    } else {
      decide.push_back(alu32_imm(BPF_AND, kAccess, ~access & kAllAccess));
      decide.push_back(jump_imm(BPF_JNE, kAccess, 0, 2));  // bits left for earlier rules
      emit_return(decide, true);
    }

    const size_t block = checks.size() + decide.size();
    for (size_t i = 0; i < checks.size(); ++i) {
      checks[i].off = static_cast<int16_t>(block - i - 1);
      out.push_back(checks[i]);
    }
    out.insert(out.end(), decide.begin(), decide.end());
    // Every device reaches a rule without checks: the rules before it are dead code
    // (which the verifier would reject as unreachable).
    if (checks.empty() && final_rule) return out;
  }
  emit_return(out, false);
  return out;
}

}  // namespace urun::cgroups
