#include "linux/seccomp/seccomp.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/error.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "linux/seccomp/seccomp_cache.hpp"
#include "linux/seccomp/seccomp_enosys.hpp"

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace urun::linux {
namespace {

using Json = nlohmann::json;

struct ActionName {
  const char* name;
  uint32_t action;
};
// ERRNO and TRACE carry a value, so they are not in the table.
constexpr ActionName kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

struct OperatorName {
  const char* name;
  scmp_compare op;
};
constexpr OperatorName kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

struct FlagName {
  const char* name;
  unsigned flag;
};
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

// The spec's list (runtime-spec 1.3 defs-linux.json); `features` reports those this
// libseccomp resolves.
constexpr const char* kArchs[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

[[noreturn]] void invalid(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what, EINVAL);
}

const std::string& get_string(const Json& v, const std::string& path) {
  if (!v.is_string()) invalid(path, "must be a string");
  return v.get_ref<const std::string&>();
}

uint64_t get_uint(const Json& v, const std::string& path, uint64_t max) {
  // A parsed non-negative number is unsigned; one built in code may be signed.
  bool ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  if (!ok || v.get<uint64_t>() > max)
    invalid(path, "must be an integer from 0 to " + std::to_string(max));
  return v.get<uint64_t>();
}

const Json* member(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const Json& array_member(const Json& obj, const char* key, const std::string& path) {
  static const Json empty = Json::array();
  const Json* v = member(obj, key);
  if (!v) return empty;
  if (!v->is_array()) invalid(path + "." + key, "must be an array");
  return *v;
}

bool takes_errno(const std::string& action) {
  return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
}

using FilterCtx = std::unique_ptr<void, decltype(&seccomp_release)>;

struct ArgRule {
  std::vector<scmp_arg_cmp> cmps;
  bool split = false;  // several conditions on one argument: one rule each
};

ArgRule parse_args(const Json& args, const std::string& path) {
  ArgRule rule;
  if (args.size() > 6) invalid(path, "at most 6 argument conditions");
  bool seen[6] = {};
  for (size_t k = 0; k < args.size(); ++k) {
    const Json& a = args[k];
    std::string p = path + "[" + std::to_string(k) + "]";
    if (!a.is_object()) invalid(p, "must be an object");
    const Json* index = member(a, "index");
    const Json* value = member(a, "value");
    const Json* op = member(a, "op");
    if (!index) invalid(p + ".index", "required");
    if (!value) invalid(p + ".value", "required");
    if (!op) invalid(p + ".op", "required");
    scmp_arg_cmp cmp{};
    cmp.arg = static_cast<unsigned>(get_uint(*index, p + ".index", 5));
    cmp.op = static_cast<scmp_compare>(seccomp_operator(get_string(*op, p + ".op"), p + ".op"));
    cmp.datum_a = get_uint(*value, p + ".value", UINT64_MAX);
    const Json* two = member(a, "valueTwo");
    cmp.datum_b = two ? get_uint(*two, p + ".valueTwo", UINT64_MAX) : 0;
    // libseccomp ANDs the conditions of one rule and refuses two on the same
    // argument; runc and crun then make one rule per condition (an OR).
    if (seen[cmp.arg]) rule.split = true;
    seen[cmp.arg] = true;
    rule.cmps.push_back(cmp);
  }
  return rule;
}

void add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const ArgRule& args,
              const std::string& path, const std::string& name) {
  auto check = [&](int rc) {
    if (rc < 0) throw_errno(path + ": add the rule for " + quote(name), -rc);
  };
  if (!args.split) {
    check(seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(args.cmps.size()),
                                 args.cmps.data()));
    return;
  }
  for (const auto& cmp : args.cmps) check(seccomp_rule_add_array(ctx, action, nr, 1, &cmp));
}

std::vector<sock_filter> export_program(scmp_filter_ctx ctx) {
  // libseccomp 2.5 exports to an fd only; a memfd never blocks (a pipe could
  // fill up with a large program).
  UniqueFd fd(::memfd_create("urun-seccomp", MFD_CLOEXEC));
  if (!fd) throw_errno("seccomp: create a memfd for the BPF program");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) throw_errno("seccomp: export the BPF program", -rc);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) throw_errno("seccomp: stat the BPF program");
  std::vector<sock_filter> program(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  size_t bytes = program.size() * sizeof(sock_filter);
  size_t done = 0;
  while (done < bytes) {
    ssize_t n = ::pread(fd.get(), reinterpret_cast<char*>(program.data()) + done, bytes - done,
                        static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("seccomp: read the BPF program", n == 0 ? EIO : errno);
    done += static_cast<size_t>(n);
  }
  return program;
}

int seccomp_syscall(unsigned op, unsigned flags, const void* args) {
  return static_cast<int>(::syscall(SYS_seccomp, op, flags, args));
}

}  // namespace

uint32_t seccomp_action(const std::string& name, std::optional<uint32_t> errno_ret,
                        const std::string& path) {
  if (errno_ret && !takes_errno(name))
    invalid(path, "an errno value is given for action " + quote(name) + ", which takes none");
  // The errno travels in the low 16 bits of the filter's return value.
  if (errno_ret && *errno_ret > 0xffff) invalid(path, "errno value out of range");
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
  for (const auto& a : kActions)
    if (name == a.name) return a.action;
  invalid(path, "unknown seccomp action " + quote(name));
}

int seccomp_operator(const std::string& name, const std::string& path) {
  for (const auto& o : kOperators)
    if (name == o.name) return o.op;
  invalid(path, "unknown seccomp operator " + quote(name));
}

uint32_t seccomp_arch(const std::string& name, const std::string& path) {
  // libseccomp's own names are lower case without the prefix ("x86_64");
  // crun accepts both spellings.
  std::string_view bare = name;
  if (bare.starts_with("SCMP_ARCH_")) bare.remove_prefix(10);
  std::string lower;
  for (char c : bare)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  uint32_t token = lower.empty() ? 0 : seccomp_arch_resolve_name(lower.c_str());
  if (token == 0) invalid(path, "unknown seccomp architecture " + quote(name));
  return token;
}

unsigned seccomp_flag(const std::string& name, const std::string& path) {
  for (const auto& f : kFlags)
    if (name == f.name) return f.flag;
  invalid(path, "unknown seccomp flag " + quote(name));
}

unsigned seccomp_flags_of(const Json& profile) {
  const std::string base = "linux.seccomp";
  // crun's default: no speculative store bypass mitigation forced on the
  // container (it costs performance and the profile did not ask for it).
  if (!profile.is_object() || !member(profile, "flags")) return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  unsigned flags = 0;
  const Json& list = array_member(profile, "flags", base);
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = base + ".flags[" + std::to_string(i) + "]";
    flags |= seccomp_flag(get_string(list[i], p), p);
  }
  return flags;
}

namespace {

// The action obj[action_key] names (required), with the errno of obj[errno_key]; `p` is obj's
// path in the config.
uint32_t action_of(const Json& obj, const std::string& action_key, const std::string& errno_key,
                   const std::string& p) {
  const Json* v = member(obj, action_key.c_str());
  if (!v) invalid(p + "." + action_key, "required");
  const std::string& name = get_string(*v, p + "." + action_key);
  std::optional<uint32_t> errno_ret;
  if (const Json* e = member(obj, errno_key.c_str()))
    errno_ret = static_cast<uint32_t>(get_uint(*e, p + "." + errno_key, UINT32_MAX));
  return seccomp_action(name, errno_ret, p + "." + action_key);
}

// The profile's default action, checked with the listener settings it goes with.
uint32_t default_action_of(const Json& profile, const std::string& base) {
  const uint32_t default_action = action_of(profile, "defaultAction", "defaultErrnoRet", base);
  // Every syscall would wait for a listener, the one that loads the filter too.
  if (default_action == SCMP_ACT_NOTIFY)
    invalid(base + ".defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");

  if (member(profile, "listenerMetadata") && !member(profile, "listenerPath"))
    invalid(base + ".listenerMetadata", "must not be set without listenerPath");
  if (const Json* p = member(profile, "listenerPath")) {
    const std::string& path = get_string(*p, base + ".listenerPath");
    if (!path.starts_with('/')) invalid(base + ".listenerPath", "must be an absolute path");
  }
  return default_action;
}

// Adds the profile's architectures to the filter; returns their tokens.
std::vector<uint32_t> add_architectures(scmp_filter_ctx ctx, const Json& profile,
                                        const std::string& base) {
  const Json& archs = array_member(profile, "architectures", base);
  std::vector<uint32_t> arch_tokens;
  for (size_t i = 0; i < archs.size(); ++i) {
    std::string p = base + ".architectures[" + std::to_string(i) + "]";
    uint32_t token = seccomp_arch(get_string(archs[i], p), p);
    int rc = seccomp_arch_add(ctx, token);
    if (rc < 0 && rc != -EEXIST) throw_errno(p + ": add the architecture", -rc);
    arch_tokens.push_back(token);
  }
  return arch_tokens;
}

// What compiling the syscalls list collects besides the filter's rules.
struct SyscallsSeen {
  bool notify = false;             // some rule's action is SCMP_ACT_NOTIFY
  std::vector<std::string> named;  // every name, for the ENOSYS stub (when it is wanted)
};

// Adds the rules of one entry of linux.seccomp.syscalls (at path p) to the filter.
void add_syscall_entry(scmp_filter_ctx ctx, const Json& sc, const std::string& p,
                       const Json& profile, uint32_t default_action, bool with_stub,
                       const SeccompOptions& options, SyscallsSeen& seen) {
  if (!sc.is_object()) invalid(p, "must be an object");
  const uint32_t action = action_of(sc, "action", "errnoRet", p);
  if (action == SCMP_ACT_NOTIFY) {
    if (!member(profile, "listenerPath") && options.receiver.empty())
      invalid(p + ".action", "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    seen.notify = true;
  }
  const Json& names = array_member(sc, "names", p);
  if (names.empty()) invalid(p + ".names", "must contain at least one syscall name");
  ArgRule args = parse_args(array_member(sc, "args", p), p + ".args");
  for (size_t j = 0; j < names.size(); ++j) {
    const std::string& name = get_string(names[j], p + ".names[" + std::to_string(j) + "]");
    if (with_stub) seen.named.push_back(name);
  }
  // libseccomp refuses a rule whose action is the default one; it would
  // change nothing anyway.
  if (action == default_action) return;
  for (size_t j = 0; j < names.size(); ++j) {
    std::string np = p + ".names[" + std::to_string(j) + "]";
    const std::string& name = names[j].get_ref<const std::string&>();
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      // Profiles list syscalls newer than the libseccomp they meet: runc
      // and crun skip those unless told to fail.
      if (options.fail_unknown_syscall) invalid(np, "unknown syscall " + quote(name));
      if (options.on_unknown_syscall) options.on_unknown_syscall(name);
      continue;
    }
    add_rule(ctx, action, nr, args, p, name);
  }
}

}  // namespace

SeccompProgram compile_seccomp(const Json& profile, const SeccompOptions& options) {
  const std::string base = "linux.seccomp";
  if (!profile.is_object()) invalid(base, "must be an object");
  const uint32_t default_action = default_action_of(profile, base);

  SeccompProgram out;
  out.flags = seccomp_flags_of(profile);

  FilterCtx ctx(seccomp_init(default_action), &seccomp_release);
  if (!ctx)
    invalid(base + ".defaultAction",
            "libseccomp refused action " + quote(profile["defaultAction"].get<std::string>()));
  const std::vector<uint32_t> arch_tokens = add_architectures(ctx.get(), profile, base);
  // Every syscall the profile names, whatever its action: the ENOSYS stub's line is above them.
  const bool with_stub = wants_enosys_stub(default_action);
  SyscallsSeen seen;
  const Json& syscalls = array_member(profile, "syscalls", base);
  for (size_t i = 0; i < syscalls.size(); ++i)
    add_syscall_entry(ctx.get(), syscalls[i], base + ".syscalls[" + std::to_string(i) + "]",
                      profile, default_action, with_stub, options, seen);
  out.notify = seen.notify;
  out.instructions = export_program(ctx.get());
  if (with_stub) {
    std::vector<sock_filter> stub = enosys_stub(newest_named_syscalls(seen.named, arch_tokens));
    out.instructions.insert(out.instructions.begin(), stub.begin(), stub.end());
  }
  if (out.notify) {
    const Json* path = member(profile, "listenerPath");
    out.listener_path = path ? path->get<std::string>() : options.receiver;
    if (const Json* m = member(profile, "listenerMetadata"))
      out.listener_metadata = get_string(*m, base + ".listenerMetadata");
  } else {
    // The kernel accepts WAIT_KILLABLE_RECV only with a listener.
    out.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  }
  return out;
}

std::optional<SeccompProgram> seccomp_for(const spec::Spec& spec, const std::string& cache_dir) {
  const Json* profile =
      spec.linux && !spec.linux->seccomp.is_null() ? &spec.linux->seccomp : nullptr;
  if (const std::string* data = spec.annotation("run.oci.seccomp_bpf_data")) {
    // crun: the raw program replaces the profile; its flags still apply.
    SeccompProgram out;
    std::string bytes;
    try {
      bytes = base64_decode(*data);
    } catch (Error& e) {
      e.prepend("annotation run.oci.seccomp_bpf_data");
      throw;
    }
    if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0)
      throw Error("annotation run.oci.seccomp_bpf_data: not a BPF program", EINVAL);
    out.instructions.resize(bytes.size() / sizeof(sock_filter));
    std::memcpy(out.instructions.data(), bytes.data(), bytes.size());
    // A raw program gets no listener: WAIT_KILLABLE_RECV would be refused.
    out.flags = seccomp_flags_of(profile ? *profile : Json()) &
                ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    return out;
  }
  if (!profile) return std::nullopt;
  SeccompOptions options;
  options.fail_unknown_syscall = spec.annotation("run.oci.seccomp_fail_unknown_syscall") != nullptr;
  if (const std::string* r = spec.annotation("run.oci.seccomp.receiver")) {
    options.receiver = *r;
  } else if (const char* env = ::getenv("RUN_OCI_SECCOMP_RECEIVER")) {
    options.receiver = env;
  }
  if (!options.receiver.empty() && !options.receiver.starts_with('/'))
    throw Error("annotation run.oci.seccomp.receiver: must be an absolute path", EINVAL);
  // Debug, not warning: every run of a stock profile would print the same
  // lines (Podman's lists syscalls newer than Debian's libseccomp).
  if (log::enabled(log::Level::debug))
    options.on_unknown_syscall = [](const std::string& name) {
      log::debug("seccomp: unknown syscall " + quote(name) + " ignored");
    };
  // A NOTIFY profile is compiled each time (its listener details come from
  // the compile); they are rare, and their agent costs more than the compile.
  if (cache_dir.empty() || profile->dump().find("SCMP_ACT_NOTIFY") != std::string::npos) {
    SeccompProgram out = compile_seccomp(*profile, options);
    // crun hands the listener to plugins loaded into the runtime; urun loads
    // no code into itself.
    if (out.notify && spec.annotation("run.oci.seccomp.plugins"))
      throw Error("annotation run.oci.seccomp.plugins: seccomp notify plugins are not supported",
                  ENOTSUP);
    return out;
  }
  SeccompProgram out;
  out.flags =
      seccomp_flags_of(*profile) & ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  out.instructions = cached_seccomp_program(cache_dir, seccomp_cache_key(*profile, options), [&] {
    return compile_seccomp(*profile, options).instructions;
  });
  return out;
}

UniqueFd load_seccomp(const SeccompProgram& program) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.instructions.size());
  prog.filter = const_cast<sock_filter*>(program.instructions.data());
  if (program.instructions.size() > 0xffff)
    throw Error("seccomp: the BPF program is too long", E2BIG);
  unsigned flags = program.flags;
  if (program.notify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  int rc = seccomp_syscall(SECCOMP_SET_MODE_FILTER, flags, &prog);
  // An older kernel that does not know a flag: the flags only tune the
  // filter, the filter itself matters more (crun does the same). Not with a
  // listener, which the profile cannot do without.
  if (rc < 0 && errno == EINVAL && flags != 0 && !program.notify)
    rc = seccomp_syscall(SECCOMP_SET_MODE_FILTER, 0, &prog);
  if (rc < 0) throw_errno("load the seccomp filter");
  return program.notify ? UniqueFd(rc) : UniqueFd();
}

nlohmann::ordered_json seccomp_features() {
  nlohmann::ordered_json j;
  j["enabled"] = true;
  nlohmann::ordered_json actions = {"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"};
  for (const auto& a : kActions) actions.push_back(a.name);
  j["actions"] = actions;
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  for (const auto& o : kOperators) ops.push_back(o.name);
  j["operators"] = ops;
  nlohmann::ordered_json archs = nlohmann::ordered_json::array();
  for (const char* a : kArchs) {
    try {
      seccomp_arch(a, "");
      archs.push_back(a);
    } catch (const Error&) {
      // this libseccomp does not know it
    }
  }
  j["archs"] = archs;
  nlohmann::ordered_json known = nlohmann::ordered_json::array();
  nlohmann::ordered_json supported = nlohmann::ordered_json::array();
  for (const auto& f : kFlags) {
    known.push_back(f.name);
    // The kernel checks the flags before it reads the (here absent) program:
    // EFAULT means the flag is known. WAIT_KILLABLE_RECV needs a listener.
    unsigned probe = f.flag;
    if (f.flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if (seccomp_syscall(SECCOMP_SET_MODE_FILTER, probe, nullptr) < 0 && errno == EFAULT)
      supported.push_back(f.name);
  }
  j["knownFlags"] = known;
  j["supportedFlags"] = supported;
  return j;
}

std::string base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.size() % 4 != 0) throw Error("invalid base64: length is not a multiple of 4", EINVAL);
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + static_cast<size_t>(k)];
      bool last_group = i + 4 == text.size();
      if (c == '=' && last_group && k >= 2 && (k == 3 || text[i + 3] == '=')) {
        v[k] = 0;
        ++pad;
        continue;
      }
      v[k] = value(c);
      if (v[k] < 0 || pad > 0) throw Error("invalid base64 character", EINVAL);
    }
    uint32_t n = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

}  // namespace urun::linux
