// The Submit size limit follows the masked input's wire size: exactly `bits`
// bits per element (secure_agg/bit_packing.h), not a 4- or 8-byte word.

#include "coordinator/service/call_limits.h"

#include "gtest/gtest.h"
#include "task/federated_evaluation.h"

namespace tacit::coordinator {
namespace {

TEST(MaxSubmitBytes, IsThePackedMaskedInputPlusTheEnvelope) {
  // A model large enough that the masked input, not the shares, is the
  // largest Submit.
  const uint64_t model_length = 1000003;
  const uint64_t elements = model_length + kEvaluationCoordinates + 1;  // + weight
  for (int bits : {8, 20, 32, 33, 40, 62}) {
    TaskConfig task;
    task.secure_agg.bits = bits;
    const auto packed = static_cast<int64_t>((elements * static_cast<uint64_t>(bits) + 7) / 8);
    EXPECT_EQ(MaxSubmitBytes(task, model_length), packed + 64 * 1024) << bits << " bits";
  }
}

}  // namespace
}  // namespace tacit::coordinator
