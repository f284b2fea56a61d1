#pragma once
// linux.seccomp: the parent compiles the profile (with libseccomp) into a
// classic BPF program before clone; the child only loads that program with
// seccomp(2). Compiling is the slow part (milliseconds for a large profile)
// and allocates: it must not happen between clone and execve.
#include <linux/filter.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "spec/spec.hpp"

namespace urun::linux {

struct SeccompProgram {
  std::vector<sock_filter> instructions;
  unsigned flags = 0;  // SECCOMP_FILTER_FLAG_*
  // SCMP_ACT_NOTIFY is used: the load asks for a listener fd, which goes to
  // the agent listening on listener_path (linux/seccomp/seccomp_notify.hpp).
  bool notify = false;
  std::string listener_path;
  std::string listener_metadata;
};

struct SeccompOptions {
  // run.oci.seccomp_fail_unknown_syscall: a syscall name libseccomp does not
  // know is an error instead of being skipped.
  bool fail_unknown_syscall = false;
  // Where a NOTIFY profile's listener goes when it has no listenerPath
  // (crun's run.oci.seccomp.receiver annotation or RUN_OCI_SECCOMP_RECEIVER).
  std::string receiver;
  // Told about each skipped unknown syscall name (may be empty).
  std::function<void(const std::string& name)> on_unknown_syscall;
};

// The translation tables of the spec's strings (libseccomp's names). Each
// throws Error("<path>: unknown ... `X`", EINVAL); `path` is the JSON path of
// the value, e.g. "linux.seccomp.syscalls[2].action".
// errno_ret: errnoRet (or defaultErrnoRet); only ERRNO and TRACE take one.
uint32_t seccomp_action(const std::string& name, std::optional<uint32_t> errno_ret,
                        const std::string& path);
int seccomp_operator(const std::string& name, const std::string& path);   // enum scmp_compare
uint32_t seccomp_arch(const std::string& name, const std::string& path);  // SCMP_ARCH_*
unsigned seccomp_flag(const std::string& name, const std::string& path);  // SECCOMP_FILTER_FLAG_*

// The SECCOMP_FILTER_FLAG_* of linux.seccomp.flags; absent: SPEC_ALLOW, as
// in crun. WAIT_KILLABLE_RECV is dropped (it needs a notification listener).
unsigned seccomp_flags_of(const nlohmann::json& profile);

// Compiles a linux.seccomp object into a BPF program. Throws Error naming the
// JSON path of the first problem. Pure: no syscall besides libseccomp's
// in-memory work (and a memfd to export the program). Unless the default
// action lets syscalls through or is ERRNO(ENOSYS), the program starts with
// runc's ENOSYS stub (linux/seccomp/seccomp_enosys.hpp): syscalls newer than every
// one the profile names fail with ENOSYS.
SeccompProgram compile_seccomp(const nlohmann::json& profile, const SeccompOptions& options = {});

// The program a container's processes get, or nullopt when the config has no
// seccomp: linux.seccomp with the run.oci.seccomp_* annotations
// (run.oci.seccomp_bpf_data replaces the profile with a base64 raw program;
// run.oci.seccomp.receiver, else $RUN_OCI_SECCOMP_RECEIVER, stands in for a
// missing listenerPath; run.oci.seccomp.plugins is refused with NOTIFY rules).
// Unknown syscall names are skipped with a debug log line. cache_dir: where
// compiled programs are kept (linux/seccomp/seccomp_cache.hpp); empty: no cache.
std::optional<SeccompProgram> seccomp_for(const spec::Spec& spec,
                                          const std::string& cache_dir = "");

// Child side: loads the program into the calling thread (seccomp(2),
// SECCOMP_SET_MODE_FILTER).
//
// A profile with SCMP_ACT_NOTIFY is loaded before the process reports ready
// in every case (after the user switch when noNewPrivileges is set): the
// parent, still listening then, passes the listener fd to the agent.
//
// When: as crun and runc do. With noNewPrivileges the filter is loaded as late
// as possible (the init: once `start` came, before the startContainer hooks;
// exec: just before execve), so that the profile need not allow the runtime's
// own set-up syscalls. Without noNewPrivileges the kernel only lets a process
// holding CAP_SYS_ADMIN (in its user namespace) load a filter, and switching
// to the process user and its capability sets drops it: the filter is loaded
// just before that switch, and the profile must then allow what follows
// (setgroups, setresuid/setresgid, capset, prctl, the sync socket's
// sendmsg/recvmsg/read, execve), as it must with crun and runc. Without no_new_privs the kernel
// requires CAP_SYS_ADMIN in the current user namespace. If the kernel refuses one of the flags
// (EINVAL), loads again without flags, as crun does. Throws Error. With program.notify, returns the
// listener fd (else an empty UniqueFd).
UniqueFd load_seccomp(const SeccompProgram& program);

// What `urun features` reports under linux.seccomp (runtime-spec features.md).
nlohmann::ordered_json seccomp_features();

// Standard base64 (with padding), for run.oci.seccomp_bpf_data. Throws Error
// on invalid input.
std::string base64_decode(std::string_view text);

}  // namespace urun::linux
