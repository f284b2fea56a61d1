#include "systemd_fake.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace urun_test {
namespace {

namespace sfs = std::filesystem;

constexpr const char* kDaemon = "/usr/bin/dbus-daemon";

// systemd's nesting of slices ("a-b.slice" -> /a.slice/a-b.slice), written here again so
// the fake does not share the code it tests.
std::string slice_cgroup(const std::string& slice) {
  if (slice == "-.slice") return "";
  const std::string stem = slice.substr(0, slice.size() - 6);
  std::string out;
  for (size_t pos = stem.find('-'); pos != std::string::npos; pos = stem.find('-', pos + 1))
    out += "/" + stem.substr(0, pos) + ".slice";
  return out + "/" + slice;
}

// Reads one a(sv) array into name -> text.
int read_properties(sd_bus_message* m, std::map<std::string, std::string>& out) {
  int r = sd_bus_message_enter_container(m, 'a', "(sv)");
  if (r < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
    const char* name = nullptr;
    if ((r = sd_bus_message_read(m, "s", &name)) < 0) return r;
    char type = 0;
    const char* contents = nullptr;
    if ((r = sd_bus_message_peek_type(m, &type, &contents)) < 0) return r;
    if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0) return r;
    std::string sig = contents, text;
    if (sig == "b") {
      int b = 0;
      r = sd_bus_message_read(m, "b", &b);
      text = b ? "true" : "false";
    } else if (sig == "t") {
      uint64_t t = 0;
      r = sd_bus_message_read(m, "t", &t);
      text = std::to_string(t);
    } else if (sig == "s") {
      const char* s = nullptr;
      r = sd_bus_message_read(m, "s", &s);
      text = s;
    } else if (sig == "au") {
      const void* data = nullptr;
      size_t size = 0;
      r = sd_bus_message_read_array(m, 'u', &data, &size);
      for (size_t i = 0; r >= 0 && i < size / sizeof(uint32_t); ++i)
        text += (i ? "," : "") + std::to_string(static_cast<const uint32_t*>(data)[i]);
    } else {
      r = sd_bus_message_skip(m, contents);
      text = "<" + sig + ">";
    }
    if (r < 0) return r;
    out[name] = text;
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;  // v
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;  // r
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

}  // namespace

void fill_cgroup_dir(const std::string& dir) {
  sfs::create_directories(dir);
  for (const char* f : {"cgroup.procs",
                        "cgroup.freeze",
                        "cgroup.kill",
                        "cgroup.subtree_control",
                        "memory.max",
                        "memory.low",
                        "memory.swap.max",
                        "memory.high",
                        "pids.max",
                        "cpu.weight",
                        "cpu.max",
                        "cpuset.cpus",
                        "cpuset.mems",
                        "io.weight",
                        "io.max",
                        "memory.limit_in_bytes",
                        "memory.soft_limit_in_bytes",
                        "cpu.shares",
                        "cpu.cfs_quota_us",
                        "cpu.cfs_period_us",
                        "tasks",
                        "devices.allow",
                        "devices.deny",
                        "freezer.state"})
    std::ofstream(dir + "/" + f);
  std::ofstream(dir + "/cgroup.controllers") << "cpu memory pids\n";
}

PrivateBus::PrivateBus(const std::string& dir) : socket_(dir + "/bus") {
  if (::access(kDaemon, X_OK) != 0)
    throw std::runtime_error(std::string(kDaemon) + " missing: run scripts/install-deps");
  const std::string config = dir + "/bus.conf";
  std::ofstream(config) << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
                           "Configuration 1.0//EN\"\n"
                           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                           "<busconfig><type>session</type><listen>unix:path="
                        << socket_
                        << "</listen><auth>EXTERNAL</auth><policy context=\"default\">"
                           "<allow send_destination=\"*\" eavesdrop=\"true\"/>"
                           "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    const std::string arg = "--config-file=" + config;
    // Its complaints (it cannot raise its fd limit without CAP_SYS_RESOURCE) go to a
    // log in the temp dir, not into the test output.
    const std::string log = dir + "/dbus-daemon.log";
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    ::execl(kDaemon, kDaemon, arg.c_str(), "--nofork", "--nopidfile", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::access(socket_.c_str(), F_OK) != 0) {
    if (std::chrono::steady_clock::now() > deadline || ::waitpid(pid_, nullptr, WNOHANG) != 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      throw std::runtime_error("dbus-daemon did not start");
    }
    ::usleep(10000);
  }
  // The socket exists from bind(); wait until the daemon also accepts clients.
  for (;;) {
    sd_bus* probe = nullptr;
    bool ok = sd_bus_new(&probe) >= 0 && sd_bus_set_address(probe, address().c_str()) >= 0 &&
              sd_bus_set_bus_client(probe, 1) >= 0 && sd_bus_start(probe) >= 0 &&
              sd_bus_call_method(probe, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", "GetId", nullptr, nullptr, "") >= 0;
    sd_bus_flush_close_unref(probe);
    if (ok) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      throw std::runtime_error("dbus-daemon does not accept clients");
    }
    ::usleep(10000);
  }
}

PrivateBus::~PrivateBus() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
}

struct FakeSystemd::Unit {
  std::string cgroup;
  sd_bus_slot* slot = nullptr;
};

namespace {

int get_control_group(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                      void* userdata, sd_bus_error*) {
  return sd_bus_message_append(reply, "s", static_cast<std::string*>(userdata)->c_str());
}

const sd_bus_vtable kScopeVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("ControlGroup", "s", get_control_group, 0, 0),
    SD_BUS_VTABLE_END,
};

}  // namespace

FakeSystemd::FakeSystemd(std::string address, std::string cgroup_root,
                         std::vector<std::string> hierarchies)
    : address_(std::move(address)),
      cgroup_root_(std::move(cgroup_root)),
      hierarchies_(std::move(hierarchies)) {
  thread_ = std::thread([this] { run(); });
  while (ready_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (ready_ < 0) {
    thread_.join();
    throw std::runtime_error("fake systemd could not start");
  }
}

FakeSystemd::~FakeSystemd() {
  stop_ = true;
  thread_.join();
}

std::vector<UnitCall> FakeSystemd::calls() {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeSystemd::fail_next_start(std::string name, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_name_ = std::move(name);
  fail_message_ = std::move(message);
}

void FakeSystemd::set_job_result(std::string result) {
  std::lock_guard<std::mutex> lock(mu_);
  job_result_ = std::move(result);
}

void FakeSystemd::set_scope_children(std::vector<std::string> children) {
  std::lock_guard<std::mutex> lock(mu_);
  children_ = std::move(children);
}

struct FakeHandlers {
  static int start_transient_unit(sd_bus_message* m, void* userdata, sd_bus_error* e);
  static int stop_unit(sd_bus_message* m, void* userdata, sd_bus_error* e);
  static int get_unit(sd_bus_message* m, void* userdata, sd_bus_error* e);
  static int reset_failed_unit(sd_bus_message* m, void* userdata, sd_bus_error* e);
  static int set_unit_properties(sd_bus_message* m, void* userdata, sd_bus_error* e);
};

int FakeSystemd::reply_with_job(sd_bus_message* m, const std::string& unit) {
  std::string result;
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_job_++;
    result = job_result_;
  }
  const std::string job = "/org/freedesktop/systemd1/job/" + std::to_string(id);
  // As systemd: the reply names the job, JobRemoved follows when it is over.
  int r = sd_bus_reply_method_return(m, "o", job.c_str());
  if (r < 0) return r;
  r = sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                         "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", id, job.c_str(),
                         unit.c_str(), result.c_str());
  return r < 0 ? r : 1;
}

int FakeHandlers::start_transient_unit(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  auto* self = static_cast<FakeSystemd*>(userdata);
  UnitCall call;
  call.method = "StartTransientUnit";
  const char *name = nullptr, *mode = nullptr;
  int r = sd_bus_message_read(m, "ss", &name, &mode);
  if (r < 0) return r;
  call.unit = name;
  call.mode = mode;
  if ((r = read_properties(m, call.properties)) < 0) return r;
  std::string fail_name, fail_message;
  std::vector<std::string> children;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->calls_.push_back(call);
    std::swap(fail_name, self->fail_name_);
    std::swap(fail_message, self->fail_message_);
    children = self->children_;
  }
  if (!fail_name.empty()) return sd_bus_error_set(e, fail_name.c_str(), fail_message.c_str());
  {
    // As systemd: a transient unit's name must be free.
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->units_.count(name))
      return sd_bus_error_setf(e, "org.freedesktop.systemd1.UnitExists",
                               "Unit %s was already loaded or has a fragment file.", name);
  }
  const std::string slice = call.properties.count("Slice") ? call.properties["Slice"] : "-.slice";
  const std::string cgroup = slice_cgroup(slice) + "/" + call.unit;
  for (const auto& h : self->hierarchies_) {
    const std::string dir = self->cgroup_root_ + (h.empty() ? "" : "/" + h) + cgroup;
    fill_cgroup_dir(dir);
    for (const auto& c : children) fill_cgroup_dir(dir + "/" + c);
  }
  auto* unit = new FakeSystemd::Unit{cgroup};
  char* path = nullptr;
  if ((r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", name, &path)) < 0) return r;
  r = sd_bus_add_object_vtable(sd_bus_message_get_bus(m), &unit->slot, path,
                               "org.freedesktop.systemd1.Scope", kScopeVtable, &unit->cgroup);
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->unit_paths_[name] = path;
    delete self->units_[name];
    self->units_[name] = unit;
  }
  std::free(path);
  if (r < 0) return r;
  return self->reply_with_job(m, name);
}

int FakeHandlers::stop_unit(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  auto* self = static_cast<FakeSystemd*>(userdata);
  const char *name = nullptr, *mode = nullptr;
  int r = sd_bus_message_read(m, "ss", &name, &mode);
  if (r < 0) return r;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->calls_.push_back({"StopUnit", name, mode, {}});
    auto it = self->units_.find(name);
    if (it == self->units_.end())
      return sd_bus_error_setf(e, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.",
                               name);
    // A stopped scope is gone from systemd (its name can be used again).
    sd_bus_slot_unref(it->second->slot);
    delete it->second;
    self->units_.erase(it);
    self->unit_paths_.erase(name);
  }
  return self->reply_with_job(m, name);
}

int FakeHandlers::get_unit(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  auto* self = static_cast<FakeSystemd*>(userdata);
  const char* name = nullptr;
  int r = sd_bus_message_read(m, "s", &name);
  if (r < 0) return r;
  std::string path;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    auto it = self->unit_paths_.find(name);
    if (it == self->unit_paths_.end())
      return sd_bus_error_setf(e, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.",
                               name);
    path = it->second;
  }
  return sd_bus_reply_method_return(m, "o", path.c_str());
}

int FakeHandlers::reset_failed_unit(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* self = static_cast<FakeSystemd*>(userdata);
  const char* name = nullptr;
  int r = sd_bus_message_read(m, "s", &name);
  if (r < 0) return r;
  std::lock_guard<std::mutex> lock(self->mu_);
  self->calls_.push_back({"ResetFailedUnit", name, "", {}});
  return sd_bus_reply_method_return(m, "");
}

int FakeHandlers::set_unit_properties(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* self = static_cast<FakeSystemd*>(userdata);
  UnitCall call;
  call.method = "SetUnitProperties";
  const char* name = nullptr;
  int runtime = 0;
  int r = sd_bus_message_read(m, "sb", &name, &runtime);
  if (r < 0) return r;
  call.unit = name;
  call.mode = runtime ? "runtime" : "persistent";
  if ((r = read_properties(m, call.properties)) < 0) return r;
  std::lock_guard<std::mutex> lock(self->mu_);
  self->calls_.push_back(call);
  return sd_bus_reply_method_return(m, "");
}

void FakeSystemd::run() {
  static const sd_bus_vtable manager_vtable[] = {
      SD_BUS_VTABLE_START(0),
      SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o",
                    FakeHandlers::start_transient_unit, 0),
      SD_BUS_METHOD("StopUnit", "ss", "o", FakeHandlers::stop_unit, 0),
      SD_BUS_METHOD("GetUnit", "s", "o", FakeHandlers::get_unit, 0),
      SD_BUS_METHOD("ResetFailedUnit", "s", "", FakeHandlers::reset_failed_unit, 0),
      SD_BUS_METHOD("SetUnitProperties", "sba(sv)", "", FakeHandlers::set_unit_properties, 0),
      SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
      SD_BUS_VTABLE_END,
  };
  sd_bus_slot* slot = nullptr;
  bool ok =
      sd_bus_new(&bus_) >= 0 && sd_bus_set_address(bus_, address_.c_str()) >= 0 &&
      sd_bus_set_bus_client(bus_, 1) >= 0 && sd_bus_start(bus_) >= 0 &&
      sd_bus_add_object_vtable(bus_, &slot, "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", manager_vtable, this) >= 0 &&
      sd_bus_request_name(bus_, "org.freedesktop.systemd1", 0) >= 0;
  ready_ = ok ? 1 : -1;
  while (ok && !stop_) {
    int r = sd_bus_process(bus_, nullptr);
    if (r > 0) continue;
    if (r < 0) break;
    sd_bus_wait(bus_, 50000);
  }
  for (auto& [name, unit] : units_) {
    sd_bus_slot_unref(unit->slot);
    delete unit;
  }
  units_.clear();
  sd_bus_slot_unref(slot);
  sd_bus_flush_close_unref(bus_);
  bus_ = nullptr;
}

}  // namespace urun_test
