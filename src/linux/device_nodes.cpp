#include "linux/device_nodes.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "common/error.hpp"
#include "common/log.hpp"

namespace urun::linux {
namespace {

constexpr uint32_t kOverflowId = 65534;

uint32_t host_id(const std::vector<spec::IdMapping>& mappings, uint32_t id) {
  for (const auto& m : mappings)
    if (id >= m.container_id && id - m.container_id < m.size)
      return m.host_id + (id - m.container_id);
  return kOverflowId;
}

// open_tree clones only mounts attached in the caller's mount namespace, so the tmpfs the nodes
// live in must be attached somewhere: in a namespace of the runtime's own, entered here and left
// again (the tmpfs's attachment goes with it; the clones keep the file system alive).
class PrivateMountNamespace {
 public:
  PrivateMountNamespace() {
    ns_.reset(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!ns_) throw_errno("open the runtime's mount namespace");
    // setns() moves the working directory to the namespace's root: it is restored from here.
    cwd_.reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cwd_) throw_errno("open the working directory");
    if (::unshare(CLONE_NEWNS) < 0) throw_errno("unshare a mount namespace");
  }
  PrivateMountNamespace(const PrivateMountNamespace&) = delete;
  PrivateMountNamespace& operator=(const PrivateMountNamespace&) = delete;
  ~PrivateMountNamespace() {
    if (!ns_) return;
    try {
      leave();
    } catch (const Error& e) {
      log::error(e.message());
    }
  }
  void leave() {
    UniqueFd ns = std::move(ns_);
    if (::setns(ns.get(), CLONE_NEWNS) < 0) throw_errno("return to the runtime's mount namespace");
    if (::fchdir(cwd_.get()) < 0) throw_errno("return to the working directory");
  }

 private:
  UniqueFd ns_, cwd_;
};

// A tmpfs for the nodes, attached on "/" of the private namespace: "/" is made private first, so
// that nothing propagates to the host's peers. Nodes are never looked up by path, only through
// the returned fd.
UniqueFd mount_node_tmpfs() {
  if (::mount(nullptr, "/", nullptr, MS_PRIVATE, nullptr) < 0)
    throw_errno("make `/` private in the runtime's own mount namespace");
  UniqueFd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs) throw_errno("fsopen tmpfs for device nodes");
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    throw_errno("create a tmpfs for device nodes");
  UniqueFd dir(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  if (!dir) throw_errno("fsmount a tmpfs for device nodes");
  if (::move_mount(dir.get(), "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
    throw_errno("attach the tmpfs for device nodes");
  return dir;
}

UniqueFd make_node(int dir, size_t index, const spec::Device& d, uint32_t uid, uint32_t gid) {
  const std::string what = "create device " + quote(d.path);
  const std::string name = std::to_string(index);
  const mode_t type = d.type == "b" ? S_IFBLK : S_IFCHR;
  const mode_t mode = d.file_mode.value_or(0666) & 07777;
  const dev_t dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  if (::mknodat(dir, name.c_str(), type | mode, dev) < 0) throw_errno(what + ": mknod");
  // chown may clear set-id bits and mknod is subject to the umask: the mode goes last.
  if (::fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    throw_errno(what + ": chown");
  if (::fchmodat(dir, name.c_str(), mode, 0) < 0) throw_errno(what + ": chmod");
  UniqueFd tree(::open_tree(dir, name.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) throw_errno(what + ": clone the node");
  // The clone keeps the tmpfs's nosuid and noexec; private, it has no peer to propagate to.
  struct mount_attr attr = {};
  attr.propagation = MS_PRIVATE;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    throw_errno(what + ": make the node's mount private");
  return tree;
}

}  // namespace

std::vector<UniqueFd> make_device_nodes_from_parent(
    const spec::Spec& spec, const std::vector<spec::IdMapping>& uid_mappings,
    const std::vector<spec::IdMapping>& gid_mappings) {
  std::vector<UniqueFd> out;
  if (!spec.linux) return out;
  const auto& devices = spec.linux->devices;
  out.resize(devices.size());
  bool any = false;
  for (const auto& d : devices) any = any || d.type != "p";
  if (!any) return out;

  PrivateMountNamespace private_ns;
  UniqueFd dir = mount_node_tmpfs();
  for (size_t i = 0; i < devices.size(); ++i) {
    const spec::Device& d = devices[i];
    if (d.type == "p") continue;
    out[i] = make_node(dir.get(), i, d, host_id(uid_mappings, d.uid.value_or(0)),
                       host_id(gid_mappings, d.gid.value_or(0)));
  }
  dir.reset();
  private_ns.leave();
  return out;
}

}  // namespace urun::linux
