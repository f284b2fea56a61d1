#include "cgroups/bpf/bpf_attach.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/bpf/bpf_device_program.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace urun::cgroups {
namespace {

// glibc has no bpf() wrapper.
int sys_bpf(int cmd, bpf_attr& attr) {
  return static_cast<int>(::syscall(SYS_bpf, cmd, &attr, sizeof attr));
}

uint64_t ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// The kernel reads a license string for every program; it only matters to programs
// that call GPL-only helpers, and the device program calls no helper at all.
constexpr char kLicense[] = "";

}  // namespace

UniqueFd load_device_program(const std::vector<bpf_insn>& insns) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = ptr(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = ptr(kLicense);
  // No RLIMIT_MEMLOCK raise as older runtimes do: since Linux 5.11 BPF memory is
  // charged to the memory cgroup, and raising the hard limit needs CAP_SYS_RESOURCE.
  int fd = sys_bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) return UniqueFd(fd);
  int err = errno;
  if (err != EACCES && err != EINVAL) throw_errno("load device program", err);
  // The verifier refused it: load again with a log to say why.
  std::string log(64 * 1024, '\0');
  attr.log_level = 1;
  attr.log_buf = ptr(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  fd = sys_bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) return UniqueFd(fd);  // passed this time: keep it
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') log.pop_back();
  const size_t last_line = log.rfind('\n');
  if (last_line != std::string::npos) log.erase(0, last_line + 1);
  throw Error(
      "load device program: " + std::string(std::strerror(err)) + (log.empty() ? "" : ": " + log),
      err);
}

std::vector<uint32_t> attached_device_programs(int cgroup_fd) {
  std::vector<uint32_t> ids(8);
  for (;;) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = ptr(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (sys_bpf(BPF_PROG_QUERY, attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return ids;
    }
    // ENOSPC: more programs than room; prog_cnt now says how many there are.
    if (errno != ENOSPC || attr.query.prog_cnt <= ids.size())
      throw_errno("query device programs of the cgroup");
    ids.resize(attr.query.prog_cnt);
  }
}

void replace_device_program(int cgroup_fd, int prog_fd) {
  // Asked before attaching, so the list cannot contain the new program.
  const std::vector<uint32_t> old = attached_device_programs(cgroup_fd);

  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  // ALLOW_MULTI: several programs on one cgroup (old and new, for the swap), and the
  // payload of a delegated sub-cgroup may add its own stricter ones below.
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, attr) < 0) throw_errno("attach device program to the cgroup");

  for (uint32_t id : old) {
    std::memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    UniqueFd old_fd(sys_bpf(BPF_PROG_GET_FD_BY_ID, attr));
    if (!old_fd) {
      if (errno == ENOENT) continue;  // detached and freed meanwhile
      throw_errno("open device program " + std::to_string(id));
    }
    std::memset(&attr, 0, sizeof attr);
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(old_fd.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, attr) < 0 && errno != ENOENT)
      throw_errno("detach device program " + std::to_string(id));
  }
}

void set_device_rules(const std::string& dir, const std::vector<DeviceRule>& rules) {
  if (rules.empty()) return;
  const std::vector<bpf_insn> program = device_program(rules);
  try {
    UniqueFd cgroup(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup) throw_errno("open cgroup " + quote(dir));
    UniqueFd prog = load_device_program(program);
    replace_device_program(cgroup.get(), prog.get());
  } catch (Error& e) {
    if (::geteuid() != 0 || !has_deny_rule(rules)) {
      log::debug(std::string("cgroup devices: ") + e.what() + ": device rules not applied");
      return;
    }
    e.prepend("cgroup devices");
    throw;
  }
}

}  // namespace urun::cgroups
