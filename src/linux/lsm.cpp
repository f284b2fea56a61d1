#include "linux/lsm.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/fs.hpp"

#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
#endif

namespace urun::linux {
namespace {

// A label is one line of text. Empty means none (as some clients write it).
bool check_value(const std::optional<std::string>& value, const char* what) {
  if (!value || value->empty()) return false;
  if (value->find_first_of(std::string("\n\0", 2)) != std::string::npos)
    throw Error(std::string(what) + ": a label cannot contain a newline or NUL", EINVAL);
  return true;
}

// The attribute file of this thread, checked to be procfs: the container's /proc could be
// anything its config mounted there.
UniqueFd open_proc_attr(const char* path) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd) return fd;
  struct statfs sfs {};
  if (::fstatfs(fd.get(), &sfs) < 0) throw_errno(std::string("statfs ") + quote(path));
  if (sfs.f_type != PROC_SUPER_MAGIC)
    throw Error(std::string("open ") + quote(path) + ": not on procfs", EPERM);
  return fd;
}

void write_attr(int fd, const std::string& value, const char* what) {
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno(std::string("set the ") + what);
}

}  // namespace

LsmHost detect_lsm_host() {
  LsmHost host;
  try {
    host.apparmor = fs::read_file("/sys/module/apparmor/parameters/enabled").starts_with('Y');
  } catch (const Error&) {
    host.apparmor = false;  // no AppArmor module
  }
  struct statfs sfs {};
  host.selinux = ::statfs("/sys/fs/selinux", &sfs) == 0 &&
                 static_cast<unsigned long>(sfs.f_type) == SELINUX_MAGIC;
  return host;
}

LsmLabels lsm_labels(const spec::Process& proc, const LsmHost& host) {
  LsmLabels labels;
  if (check_value(proc.apparmor_profile, "process.apparmorProfile") && host.apparmor)
    labels.apparmor = "exec " + *proc.apparmor_profile;
  if (check_value(proc.selinux_label, "process.selinuxLabel") && host.selinux)
    labels.selinux = *proc.selinux_label;
  return labels;
}

void LsmExecAttr::open() {
  if (!labels_.apparmor.empty()) {
    // attr/apparmor/ since Linux 5.8 (module stacking); the shared attr/exec before.
    apparmor_ = open_proc_attr("/proc/thread-self/attr/apparmor/exec");
    if (!apparmor_ && errno == ENOENT) apparmor_ = open_proc_attr("/proc/thread-self/attr/exec");
    if (!apparmor_) throw_errno("open the AppArmor exec attribute");
  }
  if (!labels_.selinux.empty()) {
    selinux_ = open_proc_attr("/proc/thread-self/attr/exec");
    if (!selinux_) throw_errno("open the SELinux exec attribute");
  }
}

void LsmExecAttr::write() {
  if (apparmor_) write_attr(apparmor_.get(), labels_.apparmor, "AppArmor profile");
  if (selinux_) write_attr(selinux_.get(), labels_.selinux, "SELinux label");
  apparmor_.reset();
  selinux_.reset();
}

}  // namespace urun::linux
