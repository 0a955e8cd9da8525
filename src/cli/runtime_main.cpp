#include "oci/state.hpp"
#include "runtime/version.hpp"

#include <cstdio>

int main() {
  std::printf("berth-runtime version %s\nspec: %s\n", berth::kVersion, berth::oci::kSpecVersion);
  return 0;
}
