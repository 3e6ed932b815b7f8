#pragma once

// One client's distributed-discrete-Gaussian contribution and the server's
// decoding of the sum, end to end (Kairouz, Liu, Steinke 2021, Alg. 1 and 2):
//   client: clip to L2 norm c -> rotate (HadamardRotation, public seed) ->
//           scale by 1/gamma -> conditional randomized rounding to norm
//           Delta_2 -> add N_Z(0, sigma^2) per coordinate (exact sampler) ->
//           reduce modulo 2^bits (what secure aggregation sums);
//   server: lift the modular sum to [-2^(bits-1), 2^(bits-1)) -> times gamma
//           -> inverse rotation = the sum of the clipped updates plus noise.
// Parameters come from ddg_planner.h (DdgPlan). The noise and rounding draw
// from the caller's RandomDraws: OsBitSource in production.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/ddg_planner.h"
#include "privacy/random_bits.h"

namespace tacit::privacy {

// `update` has the plan's unpadded dimension d; the result has
// plan.mechanism.dim (padded) values in [0, 2^bits).
absl::StatusOr<std::vector<uint64_t>> EncodeDdgUpdate(absl::Span<const double> update,
                                                      const DdgPlan& plan, uint64_t rotation_seed,
                                                      RandomDraws& draws);

// `modular_sum` is the coordinate-wise sum mod 2^bits of the clients'
// encodings; returns `dim` values: the sum of their clipped updates plus
// noise (divide by the count for the mean).
absl::StatusOr<std::vector<double>> DecodeDdgSum(absl::Span<const uint64_t> modular_sum,
                                                 const DdgPlan& plan, uint64_t rotation_seed,
                                                 size_t dim);

}  // namespace tacit::privacy
