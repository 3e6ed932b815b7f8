#pragma once

// A client's update as the distributed discrete Gaussian sends it into the
// secure sum (task/ddg_task.h, privacy/ddg_encoding.h): the model delta
// (clipped, with no float noise: PrepareLocalUpdate with noise_stddev 0)
// rotated, scaled, rounded and noised in the integers; the evaluation counts
// after it and the weight last in the round's fixed point, as without DP.
// The fleet client and the simulator both encode here.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/ddg_planner.h"
#include "privacy/random_bits.h"
#include "secure_agg/client.h"
#include "secure_agg/fixed_point.h"

namespace tacit {

// `update` holds `model_length` model coordinates then the evaluation
// coordinates (if any). Returns plan.mechanism.dim integers (the noised
// encoding as signed values mod 2^bits), then the evaluation coordinates and
// the weight as QuantizeWeighted gives them. InvalidArgument when the round's
// bits differ from the plan's or the weight is not 1 (the noise is calibrated
// to one clipped update per client). `rounding_key`: the fixed-point part's
// rounding key (simulations); fresh from RAND_bytes when unset.
absl::StatusOr<std::vector<int64_t>> EncodeDdgInput(
    const privacy::DdgPlan& plan, uint64_t rotation_seed, absl::Span<const float> update,
    size_t model_length, double weight, const secagg::FixedPointParams& round,
    privacy::RandomDraws& draws,
    const std::optional<std::array<uint8_t, 32>>& rounding_key = std::nullopt);

// Simulations only: reproducible noise and rounding (a run's seed knows the
// noise, which voids the guarantee; never set on a fleet client).
struct SeededForSimulation {
  uint64_t noise_seed = 0;
  std::array<uint8_t, 32> rounding_key{};
};

// The secure aggregation InputEncoder: EncodeDdgInput with noise and rounding
// drawn from the OS CSPRNG (privacy::OsBitSource), or from `seeded`.
secagg::InputEncoder DdgInputEncoder(privacy::DdgPlan plan, uint64_t rotation_seed,
                                     size_t model_length,
                                     std::optional<SeededForSimulation> seeded = std::nullopt);

}  // namespace tacit
