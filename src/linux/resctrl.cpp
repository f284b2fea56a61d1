#include "linux/resctrl.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "common/scope_exit.hpp"
#include "common/unique_fd.hpp"

namespace urun::linux {
namespace {

constexpr long kRdtGroupSuperMagic = 0x7655821;

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The kernel explains a refused schemata or tasks write in info/last_cmd_status.
[[noreturn]] void fail_write(const ResctrlPlan& plan, const std::string& what, int err) {
  std::string message = what + ": " + std::strerror(err);
  try {
    std::string status = fs::read_file(plan.root + "/info/last_cmd_status");
    while (!status.empty() && (status.back() == '\n' || status.back() == ' ')) status.pop_back();
    if (!status.empty() && status != "ok") message += " (resctrl: " + status + ")";
  } catch (const Error&) {
  }
  throw Error(message, err);
}

void write_knob(const ResctrlPlan& plan, const std::string& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) fail_write(plan, "open " + quote(path), errno);
  if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()))
    fail_write(plan, "write " + quote(data.substr(0, data.find('\n'))) + " to " + quote(path),
               errno ? errno : EIO);
}

void write_tasks(const ResctrlPlan& plan, pid_t pid) {
  write_knob(plan, plan.group + "/tasks", std::to_string(pid));
  if (!plan.mon_group.empty()) write_knob(plan, plan.mon_group + "/tasks", std::to_string(pid));
}

// The mount point field of the first resctrl line of mountinfo ("... - resctrl resctrl rw").
std::optional<std::string> resctrl_from_mountinfo() {
  std::string text;
  try {
    text = fs::read_file("/proc/self/mountinfo");
  } catch (const Error&) {
    return std::nullopt;
  }
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    size_t sep = line.find(" - ");
    if (sep == std::string_view::npos || !line.substr(sep + 3).starts_with("resctrl ")) continue;
    // Fields: id parent major:minor root mount-point ...
    size_t pos = 0;
    for (int field = 0; field < 4 && pos != std::string_view::npos; ++field)
      pos = line.find(' ', pos + (field ? 1 : 0));
    if (pos == std::string_view::npos) continue;
    size_t mp_end = line.find(' ', pos + 1);
    std::string mp(line.substr(pos + 1, mp_end - pos - 1));
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    std::string out;
    for (size_t i = 0; i < mp.size(); ++i) {
      if (mp[i] == '\\' && i + 3 < mp.size()) {
        out += static_cast<char>(std::stoi(mp.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        out += mp[i];
      }
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_resctrl() {
  struct statfs sfs;
  if (::statfs(kResctrlMount, &sfs) == 0 && sfs.f_type == kRdtGroupSuperMagic)
    return std::string(kResctrlMount);
  return resctrl_from_mountinfo();
}

ResctrlPlan plan_resctrl(const IntelRdt& rdt, const std::string& container_id,
                         const std::string& root) {
  ResctrlPlan plan;
  plan.root = root;
  plan.rdt = rdt;
  plan.named = rdt.clos_id.has_value();
  plan.group = rdt.default_clos() ? root : root + "/" + (rdt.clos_id ? *rdt.clos_id : container_id);
  if (rdt.enable_monitoring) plan.mon_group = plan.group + "/mon_groups/" + container_id;
  const std::string info = root + "/info/";
  if (rdt.l3_cache_schema && !exists(info + "L3") && !exists(info + "L3CODE"))
    throw Error(std::string("linux.intelRdt.l3CacheSchema: Intel RDT cache allocation (CAT) ") +
                    "is not enabled (no " + quote(info + "L3") + ")",
                ENOTSUP);
  if (rdt.mem_bw_schema && !exists(info + "MB"))
    throw Error(std::string("linux.intelRdt.memBwSchema: Intel RDT memory bandwidth allocation ") +
                    "(MBA) is not enabled (no " + quote(info + "MB") + ")",
                ENOTSUP);
  if (rdt.enable_monitoring && !exists(info + "L3_MON"))
    throw Error("linux.intelRdt.enableMonitoring: resctrl monitoring is not enabled (no " +
                    quote(info + "L3_MON") + ")",
                ENOTSUP);
  // runtime-spec: a closID without any schema names a pre-configured group.
  if (plan.named && !rdt.has_schema() && !is_dir(plan.group))
    throw Error("linux.intelRdt.closID: the resctrl group " + quote(plan.group) +
                    " does not exist (without schemas it must be made beforehand)",
                ENOENT);
  return plan;
}

ResctrlPlan plan_resctrl(const IntelRdt& rdt, const std::string& container_id) {
  std::optional<std::string> root = find_resctrl();
  if (!root)
    throw Error("linux.intelRdt: the resctrl file system is not mounted (not at " +
                    quote(kResctrlMount) +
                    " nor anywhere in /proc/self/mountinfo): Intel RDT is not available",
                ENOTSUP);
  return plan_resctrl(rdt, container_id, *root);
}

std::vector<std::string> apply_resctrl(const ResctrlPlan& plan, pid_t pid) {
  std::vector<std::string> made;
  ScopeExit undo([&] { remove_resctrl_dirs(made); });
  const IntelRdt& rdt = plan.rdt;
  const bool existed = rdt.default_clos() || is_dir(plan.group);
  if (!existed) {
    if (::mkdir(plan.group.c_str(), 0755) < 0 && errno != EEXIST)
      fail_write(plan, "create the resctrl group " + quote(plan.group), errno);
    // A named group is shared: it outlives the container (runtime-spec).
    if (!plan.named) made.push_back(plan.group);
  }
  if (existed && (rdt.l3_cache_schema || rdt.mem_bw_schema)) {
    // runtime-spec: an existing group must already hold the schemas asked for.
    std::string have = fs::read_file(plan.group + "/schemata"), differs;
    if (!schemata_match(have, rdt.l3_cache_schema, rdt.mem_bw_schema, &differs))
      throw Error("linux.intelRdt: the resctrl group " + quote(plan.group) +
                      " exists with another configuration (" + quote(differs) + ")",
                  EEXIST);
    if (!rdt.schemata.empty())
      write_knob(plan, plan.group + "/schemata", schemata_text({}, {}, rdt.schemata));
  } else {
    std::string text = schemata_text(rdt.l3_cache_schema, rdt.mem_bw_schema, rdt.schemata);
    if (!text.empty()) write_knob(plan, plan.group + "/schemata", text);
  }
  if (!plan.mon_group.empty()) {
    if (::mkdir(plan.mon_group.c_str(), 0755) < 0)
      fail_write(plan, "create the resctrl monitoring group " + quote(plan.mon_group), errno);
    made.insert(made.begin(), plan.mon_group);
  }
  write_tasks(plan, pid);
  undo.dismiss();
  return made;
}

void add_resctrl_task(const ResctrlPlan& plan, pid_t pid) { write_tasks(plan, pid); }

void update_resctrl_schemata(const ResctrlPlan& plan, const std::optional<std::string>& l3,
                             const std::optional<std::string>& mb) {
  std::string text = schemata_text(l3, mb);
  if (!text.empty()) write_knob(plan, plan.group + "/schemata", text);
}

void remove_resctrl_dirs(const std::vector<std::string>& dirs) noexcept {
  for (const auto& dir : dirs)
    if (::rmdir(dir.c_str()) < 0 && errno != ENOENT)
      log::warning("remove the resctrl group " + quote(dir) + ": " + std::strerror(errno));
}

}  // namespace urun::linux
