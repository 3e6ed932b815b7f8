// The Submit size limit follows the masked input's wire size: exactly `bits`
// bits per element (secure_agg/bit_packing.h), not a 4- or 8-byte word.

#include "coordinator/service/call_limits.h"

#include <random>

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

// Every selected client's largest Submit in flight at once must stay under
// the 80% line where gRPC starts closing flow-control windows, over random
// cohorts, over-selection, model sizes and ring widths.
TEST(TransportQuotaFloorBytes, HoldsTheWholeCohortsUploadsBelowEightyPercent) {
  std::mt19937_64 rng(20261201);
  for (int trial = 0; trial < 200; ++trial) {
    TaskConfig task;
    task.cohort.size = std::uniform_int_distribution<int>(3, 5000)(rng);
    task.cohort.over_selection = std::uniform_real_distribution<double>(1.0, 1.5)(rng);
    task.secure_agg.bits = std::uniform_int_distribution<int>(8, 62)(rng);
    const uint64_t model_length = std::uniform_int_distribution<uint64_t>(1, 20000000)(rng);
    const int64_t uploads = int64_t{task.SelectedPerRound()} * MaxSubmitBytes(task, model_length);
    const int64_t floor = TransportQuotaFloorBytes(task, model_length);
    EXPECT_LE(static_cast<double>(uploads), 0.8 * static_cast<double>(floor))
        << task.cohort.size << " clients, " << model_length << " parameters";
    EXPECT_GE(floor - uploads, int64_t{32} << 20) << "room for the idle connections' buffers";
  }
}

}  // namespace
}  // namespace tacit::coordinator
