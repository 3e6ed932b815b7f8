#pragma once

// Choosing the Shamir threshold t and the SecAgg+ degree k for a cohort. The
// security argument is in docs/secure_aggregation.md: t must exceed what the
// corrupted clients among a client's share holders can pool (privacy) and stay
// within what survives the dropouts (correctness), each with a failure
// probability below 2^-security_bits resp. 2^-correctness_bits over the cohort.

#include <cstdint>

#include "absl/status/statusor.h"

namespace tacit::secagg {

struct ParameterRequest {
  uint32_t cohort_size = 0;
  double dropout_rate = 0.1;           // expected fraction dropping out over the round
  double corruption_rate = 0.1;        // fraction of clients that may collude with the server
  double security_bits = 40;           // privacy failure probability <= 2^-security_bits
  double correctness_bits = 20;        // round failure probability <= 2^-correctness_bits
  uint32_t complete_graph_up_to = 64;  // cohorts this small always use the complete graph
};

struct ChosenParameters {
  uint32_t threshold = 0;
  uint32_t neighbors = 0;               // 0 = complete graph
  uint32_t holders = 0;                 // share holders per client (neighbours + itself)
  double log2_privacy_failure = 0;      // union bound over the cohort
  double log2_correctness_failure = 0;  // union bound over the cohort
};

absl::StatusOr<ChosenParameters> ChooseParameters(const ParameterRequest& request);

// The smallest threshold clients accept for `holders` share holders (the
// default ClientConfig::min_threshold_fraction, two thirds): floor(2h/3) + 1.
// Against an active server with z of a client's holders, a split view of that
// client needs 2t <= holders + z (docs/secure_aggregation.md).
uint32_t ActiveSecureThreshold(uint32_t holders);

// The bounds ChooseParameters reports, for a given threshold t and degree k
// (0: complete graph) instead of chosen ones: what an operator's override of
// secure_agg.threshold / secure_agg.neighbors promises for `request`'s cohort,
// dropout and corruption rates. The targets in `request` are not checked.
absl::StatusOr<ChosenParameters> EvaluateParameters(const ParameterRequest& request,
                                                    uint32_t threshold, uint32_t neighbors);

// log2 of P[X >= x] for X ~ Binomial(n, p) (exact sum in log space).
double Log2BinomialUpperTail(uint32_t n, double p, uint32_t x);

}  // namespace tacit::secagg
