// The one phase-name table: names round-trip and nothing else parses.

#include "secure_agg/phase.h"
#include "gtest/gtest.h"

namespace tacit::secagg {
namespace {

TEST(PhaseTest, NamesRoundTripInOrder) {
  const char* expected[] = {"advertise_keys", "share_keys", "masked_input", "consistency_check",
                            "unmasking"};
  for (int i = 0; i < kPhaseCount; ++i) {
    EXPECT_STREQ(PhaseName(i), expected[i]);
    EXPECT_EQ(PhaseIndex(kAllPhases[i]), i);
    EXPECT_EQ(PhaseFromName(expected[i]), kAllPhases[i]);
  }
  EXPECT_STREQ(PhaseName(-1), "unknown");
  EXPECT_STREQ(PhaseName(kPhaseCount), "unknown");
  EXPECT_FALSE(PhaseFromName("advertise keys").has_value());
  EXPECT_FALSE(PhaseFromName("").has_value());
}

}  // namespace
}  // namespace tacit::secagg
