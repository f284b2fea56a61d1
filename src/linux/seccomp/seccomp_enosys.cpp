#include "linux/seccomp/seccomp_enosys.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <map>
#include <optional>

#include "common/error.hpp"

namespace urun::linux {
namespace {

// An x32 process's syscalls reach the kernel as x86_64's (AUDIT_ARCH_X86_64) with this bit set.
constexpr uint32_t kX32SyscallBit = 0x40000000;

// A small assembler for classic BPF: jumps name labels, which finish() turns into the offsets
// the instructions hold (relative to the next instruction; 8 bits for a conditional jump).
class Assembler {
 public:
  static constexpr int kNext = -1;  // a conditional jump's "fall through"

  int label() {
    targets_.push_back(-1);
    return static_cast<int>(targets_.size()) - 1;
  }
  void bind(int label) { targets_[static_cast<size_t>(label)] = static_cast<int>(code_.size()); }
  void stmt(uint16_t code, uint32_t k) { code_.push_back({{code, 0, 0, k}, kNext, kNext}); }
  void jump_if(uint16_t op, uint32_t k, int when_true, int when_false) {
    code_.push_back(
        {{static_cast<uint16_t>(BPF_JMP | op | BPF_K), 0, 0, k}, when_true, when_false});
  }
  void jump(int label) { code_.push_back({{BPF_JMP | BPF_JA, 0, 0, 0}, label, kNext}); }

  std::vector<sock_filter> finish() const {
    std::vector<sock_filter> out;
    out.reserve(code_.size());
    for (size_t i = 0; i < code_.size(); ++i) {
      sock_filter f = code_[i].insn;
      auto offset = [&](int label) -> uint32_t {
        if (label == kNext) return 0;
        return static_cast<uint32_t>(targets_[static_cast<size_t>(label)] - static_cast<int>(i) -
                                     1);
      };
      if (BPF_OP(f.code) == BPF_JA && BPF_CLASS(f.code) == BPF_JMP) {
        f.k = offset(code_[i].when_true);
      } else if (BPF_CLASS(f.code) == BPF_JMP) {
        uint32_t jt = offset(code_[i].when_true), jf = offset(code_[i].when_false);
        // A stub has a few instructions per architecture: never near 255.
        if (jt > 255 || jf > 255) throw Error("seccomp: the ENOSYS stub is too long", E2BIG);
        f.jt = static_cast<uint8_t>(jt);
        f.jf = static_cast<uint8_t>(jf);
      }
      out.push_back(f);
    }
    return out;
  }

 private:
  struct Insn {
    sock_filter insn;
    int when_true, when_false;  // labels (jumps only)
  };
  std::vector<Insn> code_;
  std::vector<int> targets_;
};

// What the kernel reports in seccomp_data.arch. libseccomp's tokens are the AUDIT_ARCH_ values,
// except x32's, which it makes up: x32 shares x86_64's and differs by the syscall numbers.
uint32_t audit_arch(uint32_t token) { return token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token; }

}  // namespace

bool wants_enosys_stub(uint32_t default_action) {
  // The action without its data (an errno, a tracer's message).
  uint32_t kind = default_action & 0xffff0000U;
  if (kind == SCMP_ACT_ALLOW || kind == SCMP_ACT_LOG || kind == SCMP_ACT_TRACE(0)) return false;
  return default_action != SCMP_ACT_ERRNO(ENOSYS);
}

std::vector<NewestSyscall> newest_named_syscalls(const std::vector<std::string>& names,
                                                 std::vector<uint32_t> archs) {
  archs.push_back(seccomp_arch_native());
  std::sort(archs.begin(), archs.end());
  archs.erase(std::unique(archs.begin(), archs.end()), archs.end());
  std::vector<NewestSyscall> out;
  for (uint32_t arch : archs) {
    int newest = 0;
    for (const auto& name : names) {
      // Negative: unknown there, or a pseudo-syscall number (a socketcall multiplexed one).
      int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
      newest = std::max(newest, nr);
    }
    // 0 is also what a profile naming nothing there gets (runc treats it the same).
    if (newest > 0) out.push_back({arch, static_cast<uint32_t>(newest)});
  }
  return out;
}

std::vector<sock_filter> enosys_stub(const std::vector<NewestSyscall>& newest) {
  struct Section {
    std::optional<uint32_t> newest;      // the architecture's own syscalls
    std::optional<uint32_t> newest_x32;  // x86_64 only: x32's (bit 30 set)
  };
  std::map<uint32_t, Section> sections;  // by AUDIT_ARCH_: one branch each
  for (const auto& n : newest) {
    Section& s = sections[audit_arch(n.arch)];
    (n.arch == SCMP_ARCH_X32 ? s.newest_x32 : s.newest) = n.nr;
  }
  if (sections.empty()) return {};

  Assembler a;
  const int enosys = a.label();
  const int filter = a.label();  // libseccomp's program, right after the stub
  a.stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  std::vector<int> branches;
  for (const auto& entry : sections) {
    branches.push_back(a.label());
    a.jump_if(BPF_JEQ, entry.first, branches.back(), Assembler::kNext);
  }
  a.jump(filter);  // an architecture the profile does not have: the filter's bad-arch action

  size_t i = 0;
  for (const auto& [arch, s] : sections) {
    a.bind(branches[i++]);
    a.stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
    // On s390 a syscall number above 255 goes through syscall 0 ("setup", long gone otherwise),
    // which keeps the number the kernel does not know: answer ENOSYS there too, as runc does.
    if (arch == AUDIT_ARCH_S390 || arch == AUDIT_ARCH_S390X)
      a.jump_if(BPF_JEQ, 0, enosys, Assembler::kNext);
    if (arch == AUDIT_ARCH_X86_64 && s.newest_x32) {
      // x32 numbers are judged against x32's newest; with no x86_64 numbers in the profile
      // (never: x86_64 is native there) plain ones go to the filter.
      const int x32 = a.label();
      a.jump_if(BPF_JSET, kX32SyscallBit, x32, s.newest ? Assembler::kNext : filter);
      if (s.newest) a.jump_if(BPF_JGT, *s.newest, enosys, filter);
      a.bind(x32);
      a.jump_if(BPF_JGT, *s.newest_x32, enosys, filter);
      continue;
    }
    // x86_64 without x32: an x32 number is the filter's to judge (libseccomp refuses it).
    if (arch == AUDIT_ARCH_X86_64) a.jump_if(BPF_JSET, kX32SyscallBit, filter, Assembler::kNext);
    a.jump_if(BPF_JGT, *s.newest, enosys, filter);
  }
  a.bind(enosys);
  a.stmt(BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS));
  a.bind(filter);
  return a.finish();
}

}  // namespace urun::linux
