#pragma once
// std::cout and std::cerr, built on first use (cli/cli11.hpp says why they are not built
// before main). Every write to them in urun goes through these.
#include <ostream>

namespace urun::cli {

std::ostream& standard_output();
std::ostream& standard_error();

}  // namespace urun::cli
