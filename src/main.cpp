// urun: one binary, every command; cli/entry.cpp does the work.
#include "cli/entry.hpp"

int main(int argc, char** argv) { return urun::cli::run_command_line(argc, argv); }
