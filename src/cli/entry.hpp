#pragma once
// urun's command line (cli/entry.cpp), for main.

namespace urun::cli {

// Parses argv, runs the chosen command and returns the process's exit status.
int run_command_line(int argc, char** argv);

}  // namespace urun::cli
