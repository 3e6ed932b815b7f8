#pragma once

// Privacy and modular wrap of the distributed discrete Gaussian (DDG):
// Kairouz, Liu, Steinke 2021, "The Distributed Discrete Gaussian Mechanism for
// Federated Learning with Secure Aggregation" (arXiv 2102.06387).
//
// Each of the round's clients clips its update to L2 norm c, rotates it
// (hadamard_rotation.h), scales by 1/gamma, rounds conditionally to integer
// L2 norm <= Delta_2 (conditional_rounding.h), adds N_Z(0, sigma^2) noise
// (discrete_gaussian.h, sigma^2 in the scaled integer domain) and secure
// aggregation sums modulo 2^bits. Everything here is in that integer domain.
//
// Privacy of one round, when at least n clients' noise reaches the sum
// (n = the survivor minimum the client checks), add/remove one client:
//   tau    = 10 sum_{k=1}^{n-1} exp(-2 pi^2 sigma^2 k / (k+1))       (Thm. 1)
//   s2     = Delta_2 / (sqrt(n) sigma),  s1 = Delta_1 / (sqrt(n) sigma),
//            Delta_1 = Delta_2 min(sqrt(d), Delta_2) (integer vectors)
//   rdp(a) = min( a/2 s2^2 + tau d,
//                 a/2 (s2^2 + 2 s1 tau + tau^2 d),
//                 a/2 (s2 + sqrt(d) tau)^2 )                          (Prop. 14, eq. 17)
// with d the rotated (padded) dimension. These terms are the ones of the
// authors' accounting code (google-research/federated, distributed_dp/
// accounting_utils.py, compute_rdp_dgaussian).
//
// Subsampling: with q = 1 the per-round RDP is rdp(a) itself (no
// amplification: what tacit must use unless selection is by random check-in).
// With q < 1 (Poisson sampling or Balle et al. 2020 random check-ins, where
// the laptop flips its own coin) there are two choices, SubsamplingBound:
//  - kGeneral (default, rigorous): Zhu-Wang 2019 Thm. 5, the general
//    Poisson-subsampling RDP bound valid for any mechanism, applied to rdp(.)
//    above (PoissonSubsampledRdp), exactly as the authors' code does
//    (compute_rdp_dgaussian with q < 1). It carries the tau terms through
//    exactly but is loose: at z ~ 9.5, q = 0.01 it gives about 4.3 times the
//    subsampled continuous Gaussian's epsilon (DdgAccountingTest).
//  - kGaussianShape: the subsampled continuous-Gaussian RDP (Mironov et al.
//    2019, SampledGaussianRdp) at the effective noise multiplier
//    z_eff = 1 / (s2 + sqrt(d) tau), i.e. the Gaussian whose RDP curve is the
//    third term above. With tau = 0 this rests on the discrete Gaussian being
//    at least as private as the continuous one at every (eps, delta)
//    (Canonne-Kamath-Steinke 2020) so that subsampling keeps the domination;
//    with tau > 0 it treats the sum of discrete Gaussians as that Gaussian,
//    which is the paper's approximation, not a theorem. Tighter; use it only
//    where an approximation is acceptable (simulations, planning), and say so.
// Rounds compose by adding RDP; (epsilon, delta) by EpsilonFromRdp.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "privacy/rdp_accountant.h"

namespace tacit::privacy {

struct DdgMechanism {
  double clip = 0;            // c: L2 clip norm, in update units
  double gamma = 0;           // grid step: one integer = gamma update units
  double beta = 0;            // conditional rounding parameter in [0, 1)
  double local_variance = 0;  // sigma^2 of each client's noise, integer domain
  int64_t dim = 0;            // d: rotated (padded) dimension
  int64_t min_clients = 0;    // n: noise shares guaranteed in the sum
};

// tau of Thm. 1 for n clients each adding N_Z(0, sigma^2).
absl::StatusOr<double> DdgTau(double local_variance, int64_t min_clients);

// Delta_2 (conditional_rounding.h RoundedNormBound of c / gamma).
absl::StatusOr<double> DdgL2Sensitivity(const DdgMechanism& mechanism);

enum class SubsamplingBound { kGeneral, kGaussianShape };

// z_dom = 1 / (s2 + sqrt(d) tau): the noise multiplier of the Gaussian whose
// RDP curve (a / (2 z_dom^2)) is the third term above, so at q = 1 this
// mechanism's RDP is at most the Gaussian's at z_dom at every order.
absl::StatusOr<double> DdgDominatingNoiseMultiplier(const DdgMechanism& mechanism);

// Per-round RDP at each of `orders` (integers >= 2), sampling rate q in (0, 1].
absl::StatusOr<std::vector<double>> DdgRdpPerRound(
    const DdgMechanism& mechanism, double sampling_rate, const std::vector<int>& orders,
    SubsamplingBound bound = SubsamplingBound::kGeneral);

// Epsilon after `rounds` rounds at `delta` (improved RDP conversion,
// RdpAccountant::DefaultOrders()).
absl::StatusOr<PrivacySpent> DdgEpsilon(const DdgMechanism& mechanism, double sampling_rate,
                                        int64_t rounds, double delta,
                                        SubsamplingBound bound = SubsamplingBound::kGeneral);

// Modular clipping: an upper bound on the probability that some coordinate of
// one round's sum leaves [-2^(bits-1), 2^(bits-1)) and wraps, when up to
// max_clients updates are summed. Per coordinate, the sum is
//   (rotated scaled signal) + (rounding offsets) + (noise):
// the signal is sub-Gaussian over the rotation's random signs with variance
// proxy (max_clients c / gamma)^2 / d (||sum of updates|| <= max_clients c);
// each client's rounding moves a coordinate by less than 1 (so < max_clients
// in total, taken deterministically); the noise is sub-Gaussian with proxy
// max_clients sigma^2 (CKS20: N_Z(0, sigma^2) is sigma^2-sub-Gaussian). Hence
//   P[wrap] <= 2 d exp(-(2^(bits-1) - max_clients - 1)^2 / (2 v)),
//   v = (max_clients c / gamma)^2 / d + max_clients sigma^2,
// union-bounded over the d coordinates. It assumes the rotation's signs are
// uniformly random; a coordinator choosing them can raise the wrap rate
// (utility), never the privacy loss (the norm bound is enforced after it).
absl::StatusOr<double> ModularWrapProbability(const DdgMechanism& mechanism, int64_t max_clients,
                                              int bits);

}  // namespace tacit::privacy
