#include "cli/streams.hpp"

#include "cli/cli11.hpp"

namespace urun::cli {
namespace {

// Builds the standard streams once; later Init objects only count references.
void build_standard_streams() { static const std::ios_base::Init streams; }

}  // namespace

std::ostream& standard_output() {
  build_standard_streams();
  return std::cout;
}

std::ostream& standard_error() {
  build_standard_streams();
  return std::cerr;
}

}  // namespace urun::cli
