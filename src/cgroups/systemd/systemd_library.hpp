#pragma once
// libsystemd, loaded on first use. urun links no libsystemd: it drags in libgcrypt,
// liblzma, libzstd, liblz4 and libgpg-error, whose loading costs about a millisecond on
// every start (twice per create/run/exec, which re-executes the sealed binary), and only
// the systemd cgroup manager needs it, only when a systemd bus is reachable. The types
// and prototypes still come from <systemd/sd-bus.h> (libsystemd-dev); the functions are
// dlopen'ed from libsystemd.so.0 into this table.
#include <systemd/sd-bus.h>

namespace urun::cgroups::systemd {

// The sd-bus functions urun calls: X(member, function). The members drop the sd_bus_
// prefix (sd_bus_new is bus_new: `new` is a keyword).
#define URUN_SD_BUS_FUNCTIONS(X)                             \
  X(bus_new, sd_bus_new)                                     \
  X(set_address, sd_bus_set_address)                         \
  X(set_bus_client, sd_bus_set_bus_client)                   \
  X(start, sd_bus_start)                                     \
  X(flush_close_unref, sd_bus_flush_close_unref)             \
  X(call, sd_bus_call)                                       \
  X(call_method, sd_bus_call_method)                         \
  X(get_property_string, sd_bus_get_property_string)         \
  X(match_signal, sd_bus_match_signal)                       \
  X(process, sd_bus_process)                                 \
  X(wait, sd_bus_wait)                                       \
  X(slot_unref, sd_bus_slot_unref)                           \
  X(error_free, sd_bus_error_free)                           \
  X(error_get_errno, sd_bus_error_get_errno)                 \
  X(error_has_name, sd_bus_error_has_name)                   \
  X(message_new_method_call, sd_bus_message_new_method_call) \
  X(message_unref, sd_bus_message_unref)                     \
  X(message_read, sd_bus_message_read)                       \
  X(message_append, sd_bus_message_append)                   \
  X(message_append_basic, sd_bus_message_append_basic)       \
  X(message_append_array, sd_bus_message_append_array)       \
  X(message_open_container, sd_bus_message_open_container)   \
  X(message_close_container, sd_bus_message_close_container)

struct Library {
#define URUN_SD_BUS_MEMBER(member, function) decltype(&::function) member = nullptr;
  URUN_SD_BUS_FUNCTIONS(URUN_SD_BUS_MEMBER)
#undef URUN_SD_BUS_MEMBER
};

// The loaded library, loaded on the first call (and kept for the life of the process).
// Throws urun::Error (ELIBACC) with dlerror()'s reason when libsystemd.so.0 or one of
// its functions cannot be had; every later call throws the same.
const Library& library();

}  // namespace urun::cgroups::systemd
