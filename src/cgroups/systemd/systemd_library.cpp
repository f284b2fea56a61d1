#include "cgroups/systemd/systemd_library.hpp"

#include <dlfcn.h>

#include <cerrno>
#include <string>

#include "common/error.hpp"

namespace urun::cgroups::systemd {
namespace {

constexpr const char* kSoname = "libsystemd.so.0";

struct Loaded {
  Library library;
  std::string error;  // why it could not be loaded; "" when loaded
};

std::string dl_error() {
  const char* e = dlerror();
  return e ? e : "unknown dynamic loader error";
}

Loaded load() {
  Loaded out;
  // RTLD_LOCAL: its symbols (and those of its dependencies) stay out of the global
  // namespace. The handle is never closed: the function pointers live as long as the
  // process, and unloading libsystemd is neither needed nor safe while a bus is open.
  void* handle = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    out.error = dl_error();
    return out;
  }
#define URUN_SD_BUS_RESOLVE(member, function)                                 \
  {                                                                           \
    dlerror();                                                                \
    void* sym = dlsym(handle, #function);                                     \
    if (!sym) {                                                               \
      out.error = dl_error();                                                 \
      return out;                                                             \
    }                                                                         \
    out.library.member = reinterpret_cast<decltype(out.library.member)>(sym); \
  }
  URUN_SD_BUS_FUNCTIONS(URUN_SD_BUS_RESOLVE)
#undef URUN_SD_BUS_RESOLVE
  return out;
}

}  // namespace

const Library& library() {
  static const Loaded loaded = load();  // once, thread-safe
  if (!loaded.error.empty()) throw Error("load libsystemd: " + loaded.error, ELIBACC);
  return loaded.library;
}

}  // namespace urun::cgroups::systemd
