#include "criu/rpc.hpp"

#include <map>

#include "common/error.hpp"

namespace urun::criu {
namespace {

// Fields of rpc.proto's criu_opts.
enum Opt {
  kImagesDirFd = 1,
  kPid = 2,
  kLeaveRunning = 3,
  kExtUnixSk = 4,
  kTcpEstablished = 5,
  kShellJob = 7,
  kFileLocks = 8,
  kLogLevel = 9,
  kLogFile = 10,
  kNotifyScripts = 12,
  kRoot = 13,
  kParentImg = 14,
  kTrackMem = 15,
  kWorkDirFd = 17,
  kManageCgroups = 24,
  kCgRoot = 25,
  kRstSibling = 26,
  kInheritFd = 27,
  kManageCgroupsMode = 34,
  kExternal = 37,
  kJoinNs = 39,
  kFreezeCgroup = 44,
  kOrphanPtsMaster = 50,
  kTcpClose = 52,
  kLsmProfile = 53,
  kLsmMountContext = 63,
};

constexpr int kWireVarint = 0, kWire64 = 1, kWireLen = 2, kWire32 = 5;

const std::map<std::string, int> kFlags = {
    {"--leave-running", kLeaveRunning},     {"--ext-unix-sk", kExtUnixSk},
    {"--tcp-established", kTcpEstablished}, {"--shell-job", kShellJob},
    {"--file-locks", kFileLocks},           {"--track-mem", kTrackMem},
    {"--restore-sibling", kRstSibling},     {"--tcp-close", kTcpClose},
};
const std::map<std::string, int> kStrings = {
    {"--root", kRoot},
    {"--prev-images-dir", kParentImg},
    {"--external", kExternal},
    {"--freeze-cgroup", kFreezeCgroup},
    {"--lsm-profile", kLsmProfile},
    {"--lsm-mount-context", kLsmMountContext},
};

// criu_cg_mode of rpc.proto.
int cgroup_mode(const std::string& mode) {
  if (mode == "ignore") return 0;
  if (mode == "soft") return 3;
  if (mode == "full") return 4;
  if (mode == "strict") return 5;
  throw Error("unknown cgroup mode " + quote(mode), EINVAL);
}

// One option word (with its value, when it takes one) into opts.
void add_word(Message& opts, const std::string& word, const std::string* value) {
  auto need = [&]() -> const std::string& {
    if (!value) throw Error("CRIU option " + quote(word) + " without its value", EINVAL);
    return *value;
  };
  if (auto f = kFlags.find(word); f != kFlags.end()) return opts.boolean(f->second, true);
  if (auto s = kStrings.find(word); s != kStrings.end()) return opts.string(s->second, need());
  if (word.rfind("--manage-cgroups=", 0) == 0) {
    opts.boolean(kManageCgroups, true);
    return opts.varint(kManageCgroupsMode, cgroup_mode(word.substr(17)));
  }
  if (word == "--tree") return opts.varint(kPid, std::stoul(need()));
  if (word == "--cgroup-root") {
    Message root;
    root.string(2, need());
    return opts.message(kCgRoot, root);
  }
  if (word == "--join-ns") {
    const std::string& v = need();
    Message ns;
    ns.string(1, v.substr(0, v.find(':')));
    ns.string(2, v.substr(v.find(':') + 1));
    return opts.message(kJoinNs, ns);
  }
  if (word == "--inherit-fd") {
    // fd[N]:KEY
    const std::string& v = need();
    auto close = v.find("]:");
    if (v.rfind("fd[", 0) != 0 || close == std::string::npos)
      throw Error("CRIU --inherit-fd " + quote(v) + ": not fd[N]:KEY", EINVAL);
    Message inherit;
    inherit.string(1, v.substr(close + 2));
    inherit.varint(2, std::stoul(v.substr(3, close - 3)));
    return opts.message(kInheritFd, inherit);
  }
  throw Error("CRIU option " + quote(word) + " has no RPC field", EINVAL);
}

bool takes_value(const std::string& word) {
  return kStrings.count(word) || word == "--tree" || word == "--cgroup-root" ||
         word == "--join-ns" || word == "--inherit-fd" || word == "--images-dir" ||
         word == "--pidfile";
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : s_(bytes) {}
  bool done() const { return at_ >= s_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= s_.size()) throw Error("truncated CRIU response", EPROTO);
      auto b = static_cast<unsigned char>(s_[at_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Error("malformed CRIU response", EPROTO);
  }
  std::string bytes() {
    uint64_t n = varint();
    if (n > s_.size() - at_) throw Error("truncated CRIU response", EPROTO);
    std::string out = s_.substr(at_, n);
    at_ += n;
    return out;
  }
  void skip(int wire) {
    if (wire == kWireVarint)
      varint();
    else if (wire == kWireLen)
      bytes();
    else if (wire == kWire64 || wire == kWire32)
      at_ += wire == kWire64 ? 8 : 4;
    else
      throw Error("malformed CRIU response", EPROTO);
  }

 private:
  const std::string& s_;
  size_t at_ = 0;
};

}  // namespace

void Message::raw_varint(uint64_t value) {
  do {
    unsigned char b = value & 0x7f;
    value >>= 7;
    bytes_.push_back(static_cast<char>(value ? b | 0x80 : b));
  } while (value);
}

void Message::varint(int field, uint64_t value) {
  raw_varint(static_cast<uint64_t>(field) << 3 | kWireVarint);
  raw_varint(value);
}

void Message::string(int field, const std::string& value) {
  raw_varint(static_cast<uint64_t>(field) << 3 | kWireLen);
  raw_varint(value.size());
  bytes_ += value;
}

std::string build_request(const std::string& action, const std::vector<std::string>& words,
                          int images_fd, int work_fd, const std::string& log_file) {
  ReqType type = action == "dump"       ? ReqType::dump
                 : action == "pre-dump" ? ReqType::pre_dump
                 : action == "restore"  ? ReqType::restore
                                        : throw Error("no CRIU RPC for " + quote(action), EINVAL);
  Message opts;
  opts.varint(kImagesDirFd, static_cast<uint64_t>(images_fd));
  opts.varint(kWorkDirFd, static_cast<uint64_t>(work_fd));
  opts.string(kLogFile, log_file);
  opts.varint(kLogLevel, 4);
  opts.boolean(kNotifyScripts, true);
  opts.boolean(kOrphanPtsMaster, true);
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    const bool has_value = takes_value(word);
    const std::string* value = has_value && i + 1 < words.size() ? &words[i + 1] : nullptr;
    if (has_value) ++i;
    // Said otherwise over RPC: the fds above, the pid in the response, and a
    // swrk restore is detached by nature.
    if (word == "--images-dir" || word == "--pidfile" || word == "--restore-detached") continue;
    add_word(opts, word, value);
  }
  Message req;
  req.varint(1, static_cast<uint64_t>(type));
  req.message(2, opts);
  return req.bytes();
}

std::string notify_reply() {
  Message req;
  req.varint(1, static_cast<uint64_t>(ReqType::notify));
  req.boolean(3, true);
  return req.bytes();
}

Response parse_response(const std::string& bytes) {
  Response out;
  Reader r(bytes);
  while (!r.done()) {
    uint64_t key = r.varint();
    int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (field == 1 && wire == kWireVarint)
      out.type = static_cast<int>(r.varint());
    else if (field == 2 && wire == kWireVarint)
      out.success = r.varint() != 0;
    else if (field == 7 && wire == kWireVarint)
      out.cr_errno = static_cast<int>(r.varint());
    else if (field == 9 && wire == kWireLen)
      out.cr_errmsg = r.bytes();
    else if ((field == 4 || field == 5) && wire == kWireLen) {
      std::string inner = r.bytes();
      Reader sub(inner);
      while (!sub.done()) {
        uint64_t k = sub.varint();
        int f = static_cast<int>(k >> 3), w = static_cast<int>(k & 7);
        if (field == 4 && f == 1 && w == kWireVarint)
          out.restored_pid = static_cast<int>(sub.varint());
        else if (field == 5 && f == 1 && w == kWireLen)
          out.notify_script = sub.bytes();
        else
          sub.skip(w);
      }
    } else {
      r.skip(wire);
    }
  }
  return out;
}

}  // namespace urun::criu
