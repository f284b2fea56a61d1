// Record <-> state.json. The OCI state fields keep their spec names so that
// state.json reads like `urun state` output; urun's own fields use camelCase
// keys. Unknown keys are ignored and absent optional keys keep their defaults,
// so records written by an older or newer urun still load.
#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "state/store.hpp"

namespace urun::state {
namespace {

using nlohmann::json;

// Wrong types are errors (a corrupt or hand-edited record), naming the key.
class Reader {
 public:
  Reader(const json& j, const std::string& what) : j_(j), what_(what) {}

  void string(const char* key, std::string& out) const {
    if (const json* v = find(key)) {
      if (!v->is_string()) bad(key, "a string");
      out = v->get<std::string>();
    }
  }
  void boolean(const char* key, bool& out) const {
    if (const json* v = find(key)) {
      if (!v->is_boolean()) bad(key, "a boolean");
      out = v->get<bool>();
    }
  }
  template <typename T>
  void integer(const char* key, T& out) const {
    if (const json* v = find(key)) out = to_int<T>(*v, key);
  }
  void pids(const char* key, std::vector<pid_t>& out) const {
    if (const json* v = find(key)) {
      if (!v->is_array()) bad(key, "an array of pids");
      out.clear();
      for (const json& p : *v) out.push_back(to_int<pid_t>(p, key));
    }
  }
  void start_times(const char* key, std::vector<uint64_t>& out) const {
    if (const json* v = find(key)) {
      if (!v->is_array()) bad(key, "an array of start times");
      out.clear();
      for (const json& t : *v) out.push_back(to_int<uint64_t>(t, key));
    }
  }
  void string_map(const char* key, std::map<std::string, std::string>& out) const {
    if (const json* v = find(key)) {
      if (!v->is_object()) bad(key, "an object of strings");
      out.clear();
      for (const auto& [k, val] : v->items()) {
        if (!val.is_string()) bad(key, "an object of strings");
        out[k] = val.get<std::string>();
      }
    }
  }
  void required(const char* key) const {
    if (!find(key)) throw Error("parse " + quote(what_) + ": missing key " + quote(key), EINVAL);
  }

 private:
  const json* find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  template <typename T>
  T to_int(const json& v, const char* key) const {
    // Negative values are never valid here: pids, uids and start times.
    if (!v.is_number_unsigned()) bad(key, "a non-negative integer");
    auto n = v.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<T>::max())) bad(key, "in range");
    return static_cast<T>(n);
  }
  [[noreturn]] void bad(const char* key, const char* expected) const {
    throw Error("parse " + quote(what_) + ": key " + quote(key) + " is not " + expected, EINVAL);
  }

  const json& j_;
  const std::string& what_;
};

}  // namespace

namespace {

json to_json_object(const Record& r) {
  json j = {
      {"ociVersion", r.oci_version},
      {"id", r.id},
      {"status", r.status},
      {"pid", r.pid},
      {"bundle", r.bundle},
      {"created", r.created},
      {"owner", r.owner},
      {"pidStartTime", r.pid_start_time},
      {"rootfs", r.rootfs},
      {"configPath", r.config_path},
      {"ownerUid", r.owner_uid},
      {"rootless", r.rootless},
      {"systemdCgroup", r.systemd_cgroup},
      {"cgroupManager", r.cgroup_manager},
      {"cgroupPath", r.cgroup_path},
      {"helperPids", r.helper_pids},
      {"helperStartTimes", r.helper_start_times},
      {"detached", r.detached},
      {"poststartHooks", r.poststart_hooks},
  };
  if (r.creator_pid > 0) {
    j["creatorPid"] = r.creator_pid;
    j["creatorStartTime"] = r.creator_start_time;
  }
  // The OCI state marks annotations optional; leave the key out when empty.
  if (!r.annotations.empty()) j["annotations"] = r.annotations;
  if (r.cgroup.is_object()) j["cgroup"] = r.cgroup;
  if (!r.resctrl_dirs.empty()) j["resctrlDirs"] = r.resctrl_dirs;
  return j;
}

std::string dump(const json& j) {
  // Replace invalid UTF-8 (an annotation or path is not guaranteed to be
  // UTF-8) instead of throwing in the middle of a state change.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string to_json_text(const Record& r) { return dump(to_json_object(r)); }

std::string to_json_text(const Record& r, std::string_view config_text) {
  json j = to_json_object(r);
  if (!config_text.empty()) j["config"] = config_text;
  return dump(j);
}

std::optional<std::string> config_of_record(std::string_view text, std::string_view id) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;  // also a discarded (broken) text
  // Another container's record (a copied file) must not hand over its config.
  auto record_id = j.find("id");
  if (record_id == j.end() || !record_id->is_string() ||
      record_id->get_ref<const std::string&>() != id)
    return std::nullopt;
  auto config = j.find("config");
  if (config == j.end() || !config->is_string()) return std::nullopt;
  return config->get<std::string>();
}

Record from_json_text(std::string_view text, const std::string& what) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error("parse " + quote(what) + ": not valid JSON", EINVAL);
  if (!j.is_object()) throw Error("parse " + quote(what) + ": not a JSON object", EINVAL);
  Reader in(j, what);
  in.required("id");
  in.required("status");
  Record r;
  in.string("ociVersion", r.oci_version);
  in.string("id", r.id);
  in.string("status", r.status);
  in.integer("pid", r.pid);
  in.string("bundle", r.bundle);
  in.string("created", r.created);
  in.string("owner", r.owner);
  in.string_map("annotations", r.annotations);
  in.integer("pidStartTime", r.pid_start_time);
  in.string("rootfs", r.rootfs);
  in.string("configPath", r.config_path);
  in.integer("ownerUid", r.owner_uid);
  in.boolean("rootless", r.rootless);
  in.boolean("systemdCgroup", r.systemd_cgroup);
  in.string("cgroupManager", r.cgroup_manager);
  in.string("cgroupPath", r.cgroup_path);
  in.pids("helperPids", r.helper_pids);
  in.start_times("helperStartTimes", r.helper_start_times);
  in.boolean("detached", r.detached);
  in.boolean("poststartHooks", r.poststart_hooks);
  in.integer("creatorPid", r.creator_pid);
  in.integer("creatorStartTime", r.creator_start_time);
  if (auto it = j.find("cgroup"); it != j.end() && it->is_object()) r.cgroup = *it;
  if (auto it = j.find("resctrlDirs"); it != j.end() && it->is_array())
    for (const auto& d : *it)
      if (d.is_string()) r.resctrl_dirs.push_back(d.get<std::string>());
  return r;
}

Record parse_record(std::string_view text, std::string_view id, const std::string& what) {
  if (text.empty()) throw Error(quote(what) + " is empty", EUCLEAN);
  Record r;
  try {
    r = from_json_text(text, what);
  } catch (const Error& e) {
    // Records are written whole and renamed into place: text that does not
    // parse was cut short (a full disk, a crash of the file system) or
    // written by something else.
    throw Error(e.message() + (e.message().ends_with("not valid JSON") ? " (truncated?)" : ""),
                EUCLEAN);
  }
  if (r.id != id)
    throw Error(quote(what) + " is the record of container " + quote(printable_id(r.id)) +
                    ", not of " + quote(printable_id(id)),
                EUCLEAN);
  return r;
}

}  // namespace urun::state
