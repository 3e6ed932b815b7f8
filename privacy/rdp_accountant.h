#pragma once

// Privacy accounting for the (Poisson-)subsampled Gaussian mechanism with
// Renyi differential privacy, for integer orders:
//  - RDP of one release: Mironov, Talwar, Zhang 2019, "Renyi Differential
//    Privacy of the Sampled Gaussian Mechanism", Sec. 3.3 (integer alpha):
//      A_alpha = sum_{k=0..alpha} C(alpha,k) (1-q)^(alpha-k) q^k
//                                 exp((k^2 - k) / (2 z^2)),
//      rdp(alpha) = log(A_alpha) / (alpha - 1),   computed in log space.
//    With q = 1 this is the plain Gaussian alpha / (2 z^2).
//  - Composition: RDP adds over rounds.
//  - Conversion to (epsilon, delta): kImproved (default) is Canonne, Kamath,
//    Steinke 2020 / Asoodeh et al. 2020, as in Google's dp_accounting:
//      eps = rdp + log1p(-1/alpha) - (log(delta) + log(alpha)) / (alpha - 1);
//    kClassic is Mironov 2017 Prop. 3, eps = rdp + log(1/delta) / (alpha - 1)
//    (what TF Privacy and Opacus used before 2022), kept to compare against
//    published numbers.
// In federated learning one "step" is a round, q = cohort size / population
// and z = noise_multiplier; the guarantee is user-level (add/remove one user).
// Lives in privacy/ (not the coordinator) so the laptop can compute its own
// epsilon with the same code.

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tacit::privacy {

enum class RdpConversion { kImproved, kClassic };

struct PrivacySpent {
  double epsilon;
  int order;  // the RDP order that gave the smallest epsilon
};

// RDP at integer `order` >= 2 of one subsampled Gaussian release.
double SampledGaussianRdp(double sampling_rate, double noise_multiplier, int order);

// InvalidArgument unless q in [0, 1], z >= 0 finite and count >= 0: the
// arguments of a subsampled Gaussian composition (RDP and PLD accountants).
absl::Status CheckSampledGaussianReleases(double sampling_rate, double noise_multiplier,
                                          int64_t count);

// RDP at integer `order` >= 2 of any mechanism with RDP curve `rdp` (defined
// at every integer order 2..order) under Poisson subsampling with rate q: Zhu
// and Wang 2019, "Poisson Subsampled Renyi Differential Privacy", Thm. 5 (the
// general upper bound, valid for every mechanism), capped by rdp(order)
// itself, as in Kairouz-Liu-Steinke's distributed_dp accounting code.
double PoissonSubsampledRdp(double sampling_rate, int order, const std::function<double(int)>& rdp);

// RDP at integer `order` >= 2 of one release whose RDP curve is at most the
// Gaussian's at noise multiplier z (order / (2 z^2)) at every order, but which
// is not itself a Gaussian: the distributed discrete Gaussian as tacit plans
// it (ddg_planner.h PlanDdgForNoise). q = 1: order / (2 z^2). q < 1: the
// general Poisson-subsampling bound (PoissonSubsampledRdp) on that curve,
// which holds for any mechanism under it (the bound grows with each order's
// RDP) but is looser than the subsampled Gaussian's own.
double GaussianDominatedRdp(double sampling_rate, double noise_multiplier, int order);

// Smallest epsilon over `orders` for the given RDP curve.
absl::StatusOr<PrivacySpent> EpsilonFromRdp(const std::vector<int>& orders,
                                            const std::vector<double>& rdp, double delta,
                                            RdpConversion conversion = RdpConversion::kImproved);

class RdpAccountant {
 public:
  // 2..128, 256, 512, 1024: dense where the optimum usually is (small
  // epsilon wants large orders, large epsilon small ones).
  static std::vector<int> DefaultOrders();

  explicit RdpAccountant(std::vector<int> orders = DefaultOrders());

  // Records `count` releases with sampling rate q in [0, 1] and noise
  // multiplier z >= 0 (z = 0 means no privacy: epsilon becomes infinite).
  absl::Status ComposeSampledGaussian(double sampling_rate, double noise_multiplier,
                                      int64_t count = 1);
  // Records `count` releases of GaussianDominatedRdp(q, z, .).
  absl::Status ComposeGaussianDominated(double sampling_rate, double noise_multiplier,
                                        int64_t count = 1);
  // Records `count` releases of a mechanism whose RDP at orders()[i] is
  // rdp_per_release[i] (e.g. DdgRdpPerRound).
  absl::Status ComposeRdp(const std::vector<double>& rdp_per_release, int64_t count = 1);

  absl::StatusOr<PrivacySpent> Spent(double delta,
                                     RdpConversion conversion = RdpConversion::kImproved) const;

  const std::vector<int>& orders() const { return orders_; }
  const std::vector<double>& rdp() const { return rdp_; }

 private:
  std::vector<int> orders_;
  std::vector<double> rdp_;
};

}  // namespace tacit::privacy
