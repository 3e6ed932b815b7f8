#include "tests/support/test_seed.h"

#include <cstdlib>
#include <random>

namespace tacit::testing {

uint64_t TestSeed() {
  if (const char* fixed = std::getenv("TACIT_TEST_SEED"); fixed != nullptr && *fixed != '\0') {
    return std::strtoull(fixed, nullptr, 10);
  }
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) | device();
}

}  // namespace tacit::testing
