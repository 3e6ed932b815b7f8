#pragma once

#include <cstdint>

namespace tacit::testing {

// A fresh seed for a randomized test, drawn each run so repeated runs cover
// more cases; $TACIT_TEST_SEED=N replays one. Print it with the failure:
//   const uint64_t seed = TestSeed();
//   SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
uint64_t TestSeed();

}  // namespace tacit::testing
