#include "linux/seccomp/seccomp_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "version.hpp"

namespace urun::linux {
namespace {

// Bump when the translation changes the program a profile compiles to.
constexpr const char* kFormat = "urun-seccomp-cache 2";  // 2: the ENOSYS stub
// More entries than this and the cache is emptied before the next store: a
// host runs a handful of distinct profiles, a leak must not grow for ever.
constexpr int kMaxEntries = 32;

std::string entry_name(const std::string& key) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool read_entry(const std::string& path, const std::string& key, std::vector<sock_filter>& out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return false;
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return false;
  size_t size = static_cast<size_t>(st.st_size);
  size_t header = sizeof(uint64_t) + key.size();
  if (size <= header || (size - header) % sizeof(sock_filter) != 0) return false;
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd.get(), data.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  uint64_t key_len = 0;
  std::memcpy(&key_len, data.data(), sizeof key_len);
  if (key_len != key.size() || data.compare(sizeof key_len, key.size(), key) != 0) return false;
  out.resize((size - header) / sizeof(sock_filter));
  std::memcpy(out.data(), data.data() + header, size - header);
  return true;
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) throw_errno("mkdir " + quote(path));
}

void evict_if_full(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  for (dirent* e; (e = ::readdir(d));)
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  ::closedir(d);
  if (static_cast<int>(names.size()) < kMaxEntries) return;
  for (const auto& n : names) ::unlink((dir + "/" + n).c_str());
}

void store_entry(const std::string& dir, const std::string& name, const std::string& key,
                 const std::vector<sock_filter>& program) {
  // The state root exists; its .cache and .cache/seccomp may not yet.
  std::string parent = dir.substr(0, dir.rfind('/'));
  make_dir(parent);
  make_dir(dir);
  evict_if_full(dir);
  std::string data;
  uint64_t key_len = key.size();
  data.append(reinterpret_cast<const char*>(&key_len), sizeof key_len);
  data.append(key);
  data.append(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
  // Written aside then renamed: a concurrent reader sees the whole entry or none.
  std::string tmp = dir + "/." + name + "." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw_errno("create " + quote(tmp));
  if (!fs::write_all(fd.get(), data)) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_errno("write " + quote(tmp), err);
  }
  fd.reset();
  if (::rename(tmp.c_str(), (dir + "/" + name).c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw_errno("rename " + quote(tmp), err);
  }
}

}  // namespace

std::string seccomp_cache_dir(const std::string& state_root) {
  return state_root + "/.cache/seccomp";
}

std::string seccomp_cache_key(const nlohmann::json& profile, const SeccompOptions& options) {
  std::string key = kFormat;
  key += "\nurun ";
  key += kVersion;
  key += " ";
  key += kGitCommit;
  const scmp_version* v = seccomp_version();
  key += "\nlibseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro) + " api " + std::to_string(seccomp_api_get());
  struct utsname u {};
  if (::uname(&u) == 0) {
    key += "\nkernel ";
    key += u.release;
    key += " ";
    key += u.version;
    key += " ";
    key += u.machine;
  }
  key += options.fail_unknown_syscall ? "\nfail-unknown 1\n" : "\nfail-unknown 0\n";
  key += profile.dump();
  return key;
}

std::vector<sock_filter> cached_seccomp_program(
    const std::string& dir, const std::string& key,
    const std::function<std::vector<sock_filter>()>& compile) {
  std::string name = entry_name(key);
  std::vector<sock_filter> program;
  if (read_entry(dir + "/" + name, key, program)) {
    if (log::enabled(log::Level::debug))
      log::debug("seccomp: program from the cache " + quote(name));
    return program;
  }
  program = compile();
  try {
    store_entry(dir, name, key, program);
  } catch (const Error& e) {
    log::debug("seccomp: not cached: " + e.message());
  }
  return program;
}

}  // namespace urun::linux
