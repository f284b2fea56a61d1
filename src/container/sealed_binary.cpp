// The container layer's entry to the runtime's sealed copy of urun (runtime/sealed_binary.hpp):
// the CLI reaches the runtime only through container/.
#include "runtime/sealed_binary.hpp"

#include "container/commands.hpp"

namespace urun::container {

void ensure_sealed_binary(char** argv) { runtime::ensure_sealed_binary(argv); }

void seal_binary_early(int argc, char** argv) noexcept { runtime::seal_binary_early(argc, argv); }

}  // namespace urun::container
