#pragma once
// CLI11 without a std::ios_base::Init in every file that includes it.
//
// CLI11 includes <iostream>, and GCC 12's <iostream> gives each file that includes it a
// static std::ios_base::Init, whose constructor builds cin/cout/cerr/clog, their wide twins
// and their buffers in every urun process, before main, although a container's start writes
// nothing through them (without it, and with only the named command registered,
// cli/commands.cpp: `urun state` 3524 -> 3152 KiB peak RSS, 146 -> 123 page faults, 1.12 ->
// 0.78 ms CPU). So the standard streams are declared here as <iostream> declares them,
// without that object, and are built on first use by cli/streams.hpp: whatever prints through
// std::cout or std::cerr in urun goes through standard_output() or standard_error()
// (scripts/check-streams, CTest style/streams, holds the rest of the code to that).
#include <istream>
#include <ostream>

#if !defined(__GLIBCXX__)
#include <iostream>  // another standard library: as it comes
#elif !defined(_GLIBCXX_IOSTREAM)
#define _GLIBCXX_IOSTREAM 1
namespace std {
extern istream cin;
extern ostream cout;
extern ostream cerr;
extern ostream clog;
extern wistream wcin;
extern wostream wcout;
extern wostream wcerr;
extern wostream wclog;
}  // namespace std
#endif

#include <CLI/CLI.hpp>
