#pragma once

// Chooses the distributed discrete Gaussian's parameters from a task's privacy
// target, as in Kairouz-Liu-Steinke 2021's experiments (Sec. 6 and their
// ddgauss_params), but with a rigorous wrap bound instead of "k standard
// deviations": for a bit width b,
//   1. for a grid step gamma, sigma^2(gamma) is the smallest per-client
//      variance (integer domain) whose DdgEpsilon over the rounds is <= the
//      target epsilon (bisection; epsilon falls as sigma grows);
//   2. gamma is the smallest step (finest grid, least rounding error) whose
//      ModularWrapProbability at sigma^2(gamma) is <= max_wrap_probability
//      (bisection; a finer grid means larger integers, so more wrap).
// Bits: the smallest b in [min_bits, max_bits] whose plan's error is within
// `max_noise_inflation` of the continuous central Gaussian at the same
// (epsilon, delta, q, rounds); max_bits when none is. The error is
// gamma sqrt(n (sigma^2 + 1/4)) per coordinate (noise plus at most 1/4
// rounding variance per client), the reference z* c with z* from the
// subsampled-Gaussian RDP accountant.

#include <cstdint>

#include "absl/status/statusor.h"
#include "privacy/distributed_discrete_gaussian.h"

namespace tacit::privacy {

struct DdgPlanRequest {
  double epsilon = 0;          // target epsilon over all rounds
  double delta = 0;            // target delta
  int64_t rounds = 0;          // rounds a client may take part in
  double sampling_rate = 1;    // q: 1, or the random check-in / Poisson rate
  int64_t min_clients = 0;     // n: survivors whose noise the sum is sure to hold
  int64_t max_clients = 0;     // most updates a sum can hold (cohort size)
  int64_t dim = 0;             // model update length (before padding)
  double clip = 0;             // L2 clip norm c, update units
  double beta = 0.6065306597;  // exp(-1/2), the paper's choice
  int min_bits = 8;
  int max_bits = 32;
  double max_wrap_probability = 1e-9;  // per round
  double max_noise_inflation = 1.05;
  // How q < 1 is accounted (distributed_discrete_gaussian.h).
  SubsamplingBound subsampling = SubsamplingBound::kGeneral;
};

struct DdgPlan {
  int bits = 0;
  DdgMechanism mechanism;               // gamma, sigma^2, padded dim, n, ...
  double epsilon = 0;                   // achieved, <= the target
  double wrap_probability = 0;          // per round, <= the target
  double central_noise_multiplier = 0;  // z* of the continuous reference
  double noise_inflation = 0;           // DDG error / continuous Gaussian error
};

// A task that fixes the noise multiplier z (the fleet's tasks: dp.noise_multiplier)
// rather than an epsilon target.
struct DdgNoiseRequest {
  double noise_multiplier = 0;  // z: the sum must be at least as private as the Gaussian at z
  double clip = 0;              // L2 clip norm c, update units
  int64_t min_clients = 0;      // n: survivors whose noise the sum is sure to hold
  int64_t max_clients = 0;      // most updates a sum can hold
  int64_t dim = 0;              // update length (before padding)
  int bits = 32;                // the secure-aggregation ring
  double beta = 0.6065306597;
  double max_wrap_probability = 1e-9;  // per round
};

// The DDG for a fixed z at one bit width: gamma is the finest grid whose
// ModularWrapProbability is <= the target and whose sigma^2 is at most 2^50
// (the exact sampler's range), sigma^2 the smallest per-client
// variance with DdgDominatingNoiseMultiplier >= z, so every round's RDP is at
// most the Gaussian's at z at every order (at q = 1; subsampled releases are
// accounted with GaussianDominatedRdp). epsilon is left 0 (the caller
// accounts rounds); central_noise_multiplier = z; noise_inflation as above.
// The laptop and the coordinator both call it with the task's values, so
// each computes the same plan and neither has to believe the other's.
absl::StatusOr<DdgPlan> PlanDdgForNoise(const DdgNoiseRequest& request);

// The plan for one bit width; FailedPrecondition when no gamma meets the wrap
// target at that width (too few bits for the cohort).
absl::StatusOr<DdgPlan> PlanDdgForBits(const DdgPlanRequest& request, int bits);

// The plan with the fewest bits whose inflation is acceptable (see above).
absl::StatusOr<DdgPlan> PlanDdg(const DdgPlanRequest& request);

}  // namespace tacit::privacy
