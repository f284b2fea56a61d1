#include "cgroups/systemd/systemd_bus.hpp"

#include <cstring>
#include <map>

#include "cgroups/systemd/systemd_library.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace urun::cgroups::systemd {
namespace {

// libsystemd's functions (loaded by the first Bus; see systemd_library.hpp).
const Library& sd() { return library(); }

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

// Owns an sd_bus_error and an sd_bus_message reply for one call.
struct CallResult {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  ~CallResult() {
    sd().error_free(&error);
    sd().message_unref(reply);
  }
  // The D-Bus error's text, or the errno's when the call never got an answer.
  std::string why(int r) const {
    if (error.message && *error.message) return error.message;
    if (error.name) return error.name;
    return std::strerror(-r);
  }
  int err(int r) const {
    int e = sd().error_get_errno(&error);
    return e > 0 ? e : -r;
  }
};

struct MessagePtr {
  sd_bus_message* m = nullptr;
  ~MessagePtr() { sd().message_unref(m); }
};

void check(int r, const std::string& what) {
  if (r < 0) throw Error(what + ": " + std::strerror(-r), -r);
}

void append_properties(sd_bus_message* m, const std::vector<Property>& properties) {
  const std::string what = "build the systemd property list";
  check(sd().message_open_container(m, 'a', "(sv)"), what);
  for (const Property& p : properties) {
    check(sd().message_open_container(m, 'r', "sv"), what);
    check(sd().message_append_basic(m, 's', p.name.c_str()), what);
    if (const bool* b = std::get_if<bool>(&p.value)) {
      check(sd().message_append(m, "v", "b", static_cast<int>(*b)), what);
    } else if (const uint64_t* t = std::get_if<uint64_t>(&p.value)) {
      check(sd().message_append(m, "v", "t", *t), what);
    } else if (const std::string* s = std::get_if<std::string>(&p.value)) {
      check(sd().message_append(m, "v", "s", s->c_str()), what);
    } else {
      const auto& au = std::get<std::vector<uint32_t>>(p.value);
      check(sd().message_open_container(m, 'v', "au"), what);
      check(sd().message_append_array(m, 'u', au.data(), au.size() * sizeof(uint32_t)), what);
      check(sd().message_close_container(m), what);
    }
    check(sd().message_close_container(m), what);
  }
  check(sd().message_close_container(m), what);
}

}  // namespace

// The results of the jobs JobRemoved reported, by job object path. Signals are only
// dispatched while waiting, but the match is installed before the call, so a job that
// ends before its reply is read is still seen.
struct Bus::JobWatch {
  std::map<std::string, std::string> results;
  sd_bus_slot* slot = nullptr;
  ~JobWatch() { sd().slot_unref(slot); }

  static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    uint32_t id = 0;
    const char *job = nullptr, *unit = nullptr, *result = nullptr;
    if (sd().message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
    static_cast<JobWatch*>(userdata)->results[job] = result;
    return 0;
  }
};

Bus::Bus(const std::string& address) : address_(address) {
  const std::string what = "connect to the systemd bus at " + quote(address);
  check(sd().bus_new(&bus_), what);
  try {
    check(sd().set_address(bus_, address.c_str()), what);
    check(sd().set_bus_client(bus_, 1), what);
    check(sd().start(bus_), what);
  } catch (...) {
    sd().flush_close_unref(bus_);
    throw;
  }
}

Bus::~Bus() { sd().flush_close_unref(bus_); }

bool Bus::name_has_owner(const std::string& name) {
  CallResult c;
  int r = sd().call_method(bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "NameHasOwner", &c.error, &c.reply, "s",
                           name.c_str());
  if (r < 0) throw Error("ask the bus for " + quote(name) + ": " + c.why(r), c.err(r));
  int has = 0;
  check(sd().message_read(c.reply, "b", &has), "read NameHasOwner reply");
  return has != 0;
}

std::string Bus::call_for_job(const char* method, const std::string& what, JobWatch& watch,
                              const std::function<void(sd_bus_message*)>& append) {
  check(sd().match_signal(bus_, &watch.slot, kService, kPath, kManager, "JobRemoved",
                          &JobWatch::on_job_removed, &watch),
        what + ": watch JobRemoved");
  MessagePtr m;
  check(sd().message_new_method_call(bus_, &m.m, kService, kPath, kManager, method), what);
  append(m.m);
  CallResult c;
  int r = sd().call(bus_, m.m, 0, &c.error, &c.reply);
  if (r < 0) {
    if (sd().error_has_name(&c.error, "org.freedesktop.systemd1.NoSuchUnit"))
      throw Error(what + ": " + c.why(r), ENOENT);
    throw Error(what + ": " + c.why(r), c.err(r));
  }
  const char* job = nullptr;
  check(sd().message_read(c.reply, "o", &job), what + ": read the job");
  return job;
}

void Bus::wait_for_job(JobWatch& watch, const std::string& job, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + job_timeout;
  for (;;) {
    auto it = watch.results.find(job);
    if (it != watch.results.end()) {
      if (it->second != "done")
        throw Error(what + ": the systemd job ended with " + quote(it->second), EIO);
      return;
    }
    int r = sd().process(bus_, nullptr);
    check(r, what + ": read the bus");
    if (r > 0) continue;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero())
      throw Error(what + ": timed out waiting for the systemd job " + quote(job), ETIMEDOUT);
    r = sd().wait(bus_, std::chrono::duration_cast<std::chrono::microseconds>(left).count());
    if (r < 0 && r != -EINTR) check(r, what + ": wait on the bus");
  }
}

void Bus::start_transient_unit(const std::string& unit, const std::vector<Property>& properties) {
  const std::string what = "start systemd unit " + quote(unit);
  JobWatch watch;
  std::string job = call_for_job("StartTransientUnit", what, watch, [&](sd_bus_message* m) {
    check(sd().message_append(m, "ss", unit.c_str(), "fail"), what);
    append_properties(m, properties);
    check(sd().message_append(m, "a(sa(sv))", 0), what);  // no auxiliary units
  });
  wait_for_job(watch, job, what);
}

void Bus::stop_unit(const std::string& unit) {
  const std::string what = "stop systemd unit " + quote(unit);
  JobWatch watch;
  std::string job;
  try {
    job = call_for_job("StopUnit", what, watch, [&](sd_bus_message* m) {
      check(sd().message_append(m, "ss", unit.c_str(), "replace"), what);
    });
  } catch (const Error& e) {
    if (e.code() == ENOENT) return;  // systemd already forgot it
    throw;
  }
  wait_for_job(watch, job, what);
}

void Bus::reset_failed_unit(const std::string& unit) noexcept {
  CallResult c;
  int r = sd().call_method(bus_, kService, kPath, kManager, "ResetFailedUnit", &c.error, &c.reply,
                           "s", unit.c_str());
  if (r < 0 && !sd().error_has_name(&c.error, "org.freedesktop.systemd1.NoSuchUnit"))
    log::debug("reset failed systemd unit " + quote(unit) + ": " + c.why(r));
}

void Bus::set_unit_properties(const std::string& unit, const std::vector<Property>& properties) {
  const std::string what = "set properties of systemd unit " + quote(unit);
  MessagePtr m;
  check(sd().message_new_method_call(bus_, &m.m, kService, kPath, kManager, "SetUnitProperties"),
        what);
  check(sd().message_append(m.m, "sb", unit.c_str(), 1), what);
  append_properties(m.m, properties);
  CallResult c;
  int r = sd().call(bus_, m.m, 0, &c.error, &c.reply);
  if (r < 0) throw Error(what + ": " + c.why(r), c.err(r));
}

std::string Bus::control_group(const std::string& unit) {
  const std::string what = "find the cgroup of systemd unit " + quote(unit);
  CallResult c;
  int r = sd().call_method(bus_, kService, kPath, kManager, "GetUnit", &c.error, &c.reply, "s",
                           unit.c_str());
  if (r < 0) throw Error(what + ": " + c.why(r), c.err(r));
  const char* object = nullptr;
  check(sd().message_read(c.reply, "o", &object), what);
  CallResult p;
  char* cgroup = nullptr;
  r = sd().get_property_string(bus_, kService, object, "org.freedesktop.systemd1.Scope",
                               "ControlGroup", &p.error, &cgroup);
  if (r < 0) throw Error(what + ": " + p.why(r), p.err(r));
  std::string out = cgroup;
  std::free(cgroup);
  if (out.empty() || out.front() != '/')
    throw Error(what + ": systemd reports no cgroup (" + quote(out) + ")", EIO);
  return out;
}

}  // namespace urun::cgroups::systemd
