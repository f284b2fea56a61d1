#include "linux/executable_image.hpp"

#include <fcntl.h>
#include <link.h>
#include <linux/prctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/proc_stat.hpp"

namespace urun::linux {
namespace {

// One mapping of our binary, as /proc/self/maps lists it.
struct Mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::uint64_t offset = 0;
  int prot = 0;
};

// The main program's PT_LOAD segments at their run-time addresses.
struct Segments {
  struct Range {
    std::uintptr_t start, end;
    bool writable;
  };
  std::array<Range, 16> ranges{};
  std::size_t count = 0;
};

// A binary has four or five mappings (headers and read-only data, code, relro, data); a few
// more when mprotect split one. More than this means something we do not understand: refuse.
constexpr std::size_t kMaxMappings = 32;

int collect_segments(dl_phdr_info* info, std::size_t, void* data) {
  auto* segments = static_cast<Segments*>(data);
  for (int i = 0; i < info->dlpi_phnum && segments->count < segments->ranges.size(); ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    segments->ranges[segments->count++] = {start, start + ph.p_memsz, (ph.p_flags & PF_W) != 0};
  }
  return 1;  // the first object dl_iterate_phdr reports is the main program
}

// Pages of a segment the loader or the program may have written (relocated relro, data) are
// private copies that differ from the file: those mappings are copied, the others (code,
// read-only data) are simply mapped again.
bool may_differ_from_file(const Mapping& m, const Segments& segments) {
  if (m.prot & PROT_WRITE) return true;
  for (std::size_t i = 0; i < segments.count; ++i) {
    const auto& r = segments.ranges[i];
    if (r.writable && m.start < r.end && r.start < m.end) return true;
  }
  return false;
}

template <typename T>
bool take_number(std::string_view& s, T& out, int base) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}

bool take_char(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

// "start-end perms offset major:minor inode [path]": the mapping when it is of (dev, ino).
bool parse_mapping(std::string_view line, dev_t dev, ino_t ino, Mapping& m, bool& shared) {
  unsigned major = 0, minor = 0;
  unsigned long inode = 0;
  if (!take_number(line, m.start, 16) || !take_char(line, '-') || !take_number(line, m.end, 16) ||
      !take_char(line, ' ') || line.size() < 5)
    return false;
  const std::string_view perms = line.substr(0, 4);
  line.remove_prefix(5);
  if (!take_number(line, m.offset, 16) || !take_char(line, ' ') || !take_number(line, major, 16) ||
      !take_char(line, ':') || !take_number(line, minor, 16) || !take_char(line, ' ') ||
      !take_number(line, inode, 10))
    return false;
  if (inode != ino || makedev(major, minor) != dev) return false;
  m.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
           (perms[2] == 'x' ? PROT_EXEC : 0);
  shared = perms[3] == 's';
  return true;
}

// Replaces one mapping by the same range mapped from `file`, atomically (mremap over it), with
// its private changes copied. Nothing between the copy and the mremap writes to our data:
// when the mapping is our .data or GOT, a write there would be lost (a lazily bound function's
// GOT slot, at worst, is bound again on its next call).
bool move_mapping(const Mapping& m, int file, bool copy) {
  const std::size_t len = m.end - m.start;
  void* fresh = ::mmap(nullptr, len, copy ? PROT_READ | PROT_WRITE : m.prot, MAP_PRIVATE, file,
                       static_cast<off_t>(m.offset));
  if (fresh == MAP_FAILED) return false;
  if (copy) {
    std::memcpy(fresh, reinterpret_cast<const void*>(m.start), len);
    if (::mprotect(fresh, len, m.prot) < 0) {
      const int err = errno;
      ::munmap(fresh, len);
      errno = err;
      return false;
    }
  }
  if (::syscall(SYS_mremap, fresh, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, m.start) ==
      static_cast<long>(-1)) {
    const int err = errno;
    ::munmap(fresh, len);
    errno = err;
    return false;
  }
  return true;
}

// The mm's layout as the kernel keeps it, which PR_SET_MM_MAP wants back unchanged beside the new
// executable: /proc/self/stat fields 26-28 and 45-51 (proc(5)), the break from brk(0).
bool current_layout(const std::string& stat, prctl_mm_map& map) {
  const struct {
    int n;
    __u64* to;
  } wanted[] = {{26, &map.start_code}, {27, &map.end_code}, {28, &map.start_stack},
                {45, &map.start_data}, {46, &map.end_data}, {47, &map.start_brk},
                {48, &map.arg_start},  {49, &map.arg_end},  {50, &map.env_start},
                {51, &map.env_end}};
  for (const auto& w : wanted) {
    const auto value = proc_stat_number(stat, w.n);
    if (!value) {
      errno = EINVAL;
      return false;
    }
    *w.to = *value;
  }
  map.brk = static_cast<std::uint64_t>(::syscall(SYS_brk, 0));
  map.auxv = nullptr;
  map.auxv_size = 0;  // keep the auxiliary vector
  return true;
}

// A /proc file of ours, whole; empty with errno set when it cannot be read.
std::string read_own_proc_file(const char* path) noexcept {
  try {
    return fs::read_file_limited(path, 1 << 20);
  } catch (const Error& e) {
    errno = e.code();
  } catch (...) {
    errno = ENOMEM;
  }
  return {};
}

}  // namespace

bool adopt_executable(int file) noexcept {
  struct stat st {};
  if (::fstat(file, &st) < 0) return false;
  Segments segments;
  ::dl_iterate_phdr(collect_segments, &segments);

  // Read into the heap before anything moves (the heap is not the binary's).
  const std::string maps_text = read_own_proc_file("/proc/self/maps");
  if (maps_text.empty()) return false;
  std::string_view maps = maps_text;
  std::array<Mapping, kMaxMappings> mappings{};
  std::size_t count = 0;
  while (!maps.empty()) {
    const std::size_t nl = maps.find('\n');
    const std::string_view line = maps.substr(0, nl);
    maps.remove_prefix(nl == std::string_view::npos ? maps.size() : nl + 1);
    Mapping m;
    bool shared = false;
    if (!parse_mapping(line, st.st_dev, st.st_ino, m, shared)) continue;
    if (shared || count == mappings.size()) {
      errno = shared ? EINVAL : E2BIG;
      return false;
    }
    mappings[count++] = m;
  }
  if (count == 0) {  // `file` is not our executable
    errno = ENOENT;
    return false;
  }
  for (std::size_t i = 0; i < count; ++i)
    if (!move_mapping(mappings[i], file, may_differ_from_file(mappings[i], segments))) return false;

  const std::string stat = read_own_proc_file("/proc/self/stat");
  prctl_mm_map map{};
  if (stat.empty() || !current_layout(stat, map)) return false;
  map.exe_fd = static_cast<std::uint32_t>(file);
  return ::prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0) == 0;
}

}  // namespace urun::linux
