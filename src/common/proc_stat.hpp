#pragma once
// The line of /proc/<pid>/stat, split into its fields. Pure and free of any other urun module:
// the state records (a process's start time and state, state/) and the move of urun's own
// running image (its memory layout, linux/executable_image.cpp) both read it.
#include <cstdint>
#include <optional>
#include <string_view>

namespace urun {

// Field `n` as proc(5) numbers them (1 = pid, 2 = comm, 3 = state, ...), for n >= 3; empty when
// the line has no such field. comm is "(...)" and may contain anything, ')' and spaces included,
// but no later field contains ')', so the last one ends it.
std::string_view proc_stat_field(std::string_view stat_line, int n);

// That field as an unsigned number; nullopt when it is missing or not one.
std::optional<std::uint64_t> proc_stat_number(std::string_view stat_line, int n);

}  // namespace urun
