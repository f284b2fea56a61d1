#include "linux/mounts/bind_sources.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>

#include "common/error.hpp"

namespace urun::linux {

bool is_bind_mount(const spec::Mount& m, const MountOptions& opts) {
  return opts.bind() || m.type == "bind";
}

UniqueFd open_bind_source(const spec::Mount& m, const MountOptions& opts) {
  const int nofollow = opts.copy_symlink || opts.src_nofollow ? O_NOFOLLOW : 0;
  return UniqueFd(::open(m.source.c_str(), O_PATH | O_CLOEXEC | nofollow));
}

HostPaths open_host_paths_in_child(const spec::Spec& spec, const std::string& rootfs) {
  HostPaths out;
  out.rootfs.reset(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  out.bind_sources.resize(spec.mounts.size());
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const spec::Mount& m = spec.mounts[i];
    const MountOptions opts = parse_mount_options(m.options);
    // An id-mapped mount's tree always comes from the runtime.
    if (!is_bind_mount(m, opts) || is_idmapped(m, opts) || m.source.empty()) continue;
    out.bind_sources[i] = open_bind_source(m, opts);
    // A clone would follow a copy-symlink source: the init reports those itself.
    if (!out.bind_sources[i] && (errno == EACCES || errno == EPERM) && !opts.copy_symlink)
      out.refused.push_back(i);
  }
  return out;
}

std::string encode_indices(const std::vector<size_t>& indices) {
  std::string out;
  for (size_t i : indices) {
    if (!out.empty()) out += ',';
    out += std::to_string(i);
  }
  return out;
}

std::vector<size_t> decode_indices(std::string_view text, size_t count) {
  std::vector<size_t> out;
  if (text.empty()) return out;
  for (;;) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    size_t value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || value >= count)
      throw Error("bad mount index " + quote(item) + " from the container init", EPROTO);
    out.push_back(value);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

UniqueFd clone_bind_source(const spec::Mount& m, const std::string& bundle,
                           const std::string& what) {
  const MountOptions opts = parse_mount_options(m.options);
  const std::string source = m.source.starts_with('/') ? m.source : bundle + "/" + m.source;
  const unsigned recursive = opts.rbind() ? AT_RECURSIVE : 0;
  const unsigned nofollow = opts.src_nofollow ? AT_SYMLINK_NOFOLLOW : 0;
  UniqueFd tree(static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, source.c_str(),
                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_NO_AUTOMOUNT | recursive | nofollow)));
  if (!tree) throw_errno(what + ": clone the source");
  mount_attr attr{};
  attr.propagation = MS_SLAVE;
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) <
      0)
    throw_errno(what + ": make the source's clone a slave mount");
  return tree;
}

}  // namespace urun::linux
