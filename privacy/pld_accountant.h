#pragma once

// Privacy loss distribution (PLD) accounting for the (Poisson-)subsampled
// Gaussian mechanism, as in Google's dp_accounting (pld/): tighter than RDP
// because it composes the whole distribution of the privacy loss instead of a
// bound on its moments.
//
// One release with sampling rate q and noise multiplier z (sensitivity 1),
// add/remove one user:
//   remove: P = (1-q) N(0, z^2) + q N(1, z^2)  against  Q = N(0, z^2)
//   add:    P = N(0, z^2)  against  Q = (1-q) N(0, z^2) + q N(1, z^2)
// Each direction's PLD is discretized on the grid {i h} by "connect the dots"
// (Doroshenko, Ghazi, Kamath, Kumar, Manurangsi 2022, "Connect the Dots:
// Tighter Discrete Approximations of Privacy Loss Distributions"): the
// discrete PLD's hockey-stick curve delta(eps) equals the exact one at every
// grid point and is the chord between them, above the exact convex curve, so
// it dominates the mechanism and every composition of it: epsilon is never
// understated by the discretization. The exact delta at a grid point is
//   delta(eps) = P[L > eps] - e^eps Q[L > eps]
// with L monotone in the output, so both probabilities are normal tails
// (erfc). Output mass beyond 8.5 standard deviations (probability < 1e-17) is
// given infinite privacy loss (counted in delta in full).
//
// Composition convolves the discrete PLDs (FFT, fft_convolution.h; T-fold by
// repeated squaring). After each convolution the upper tail of mass <= 1e-15
// is moved to infinite loss and the lower tail of mass <= 1e-15 up to the
// lowest kept grid point: both only raise delta. The one non-pessimistic
// error is floating-point round-off in the FFT, of order 1e-16 per grid
// point, far below any delta a task asks for (1e-5 .. 1e-9).
//
// add-or-remove: delta(eps) is the larger of the two directions'.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace tacit::privacy {

// A discrete PLD: mass[i] at privacy loss (offset + i) * interval, plus
// infinity_mass at infinite loss.
class PrivacyLossDistribution {
 public:
  // The connect-the-dots PLD of one subsampled Gaussian release, one
  // direction (`remove` true: P is the mixture). q in [0, 1], z > 0,
  // interval > 0.
  static absl::StatusOr<PrivacyLossDistribution> SubsampledGaussian(double sampling_rate,
                                                                    double noise_multiplier,
                                                                    bool remove, double interval);
  // The PLD of a release without noise (z = 0) under sampling rate q: the
  // sampled user is revealed.
  static absl::StatusOr<PrivacyLossDistribution> NoNoise(double sampling_rate, bool remove,
                                                         double interval);
  // The PLD of a release that reveals nothing (loss 0 with probability 1).
  static PrivacyLossDistribution Identity(double interval);

  // The PLD of running both mechanisms (same interval).
  absl::StatusOr<PrivacyLossDistribution> Compose(const PrivacyLossDistribution& other) const;
  // `count` >= 0 independent runs.
  absl::StatusOr<PrivacyLossDistribution> SelfCompose(int64_t count) const;

  // delta(eps) = infinity_mass + sum_i mass[i] (1 - e^{eps - loss_i})_+.
  double DeltaForEpsilon(double epsilon) const;
  // The smallest eps >= 0 with delta(eps) <= delta (infinity when the
  // infinite-loss mass alone exceeds delta).
  double EpsilonForDelta(double delta) const;

  double interval() const { return interval_; }
  int64_t offset() const { return offset_; }
  const std::vector<double>& mass() const { return mass_; }
  double infinity_mass() const { return infinity_mass_; }

 private:
  PrivacyLossDistribution(double interval, int64_t offset, std::vector<double> mass,
                          double infinity_mass)
      : interval_(interval),
        offset_(offset),
        mass_(std::move(mass)),
        infinity_mass_(infinity_mass) {}
  void TruncateTails();

  double interval_;
  int64_t offset_;
  std::vector<double> mass_;
  double infinity_mass_;
};

enum class Adjacency { kAddOrRemove, kRemove, kAdd };

class PldAccountant {
 public:
  // interval: the loss grid step; 1e-4 is dp_accounting's default. Error
  // shrinks with it (connect-the-dots error is second order in the step),
  // time grows as 1 / interval.
  explicit PldAccountant(Adjacency adjacency = Adjacency::kAddOrRemove, double interval = 1e-4);

  // Records `count` subsampled Gaussian releases (q in [0, 1], z >= 0; z = 0
  // releases everything: delta becomes 1).
  absl::Status ComposeSampledGaussian(double sampling_rate, double noise_multiplier,
                                      int64_t count = 1);

  absl::StatusOr<double> Delta(double epsilon) const;
  absl::StatusOr<double> Epsilon(double delta) const;

 private:
  Adjacency adjacency_;
  double interval_;
  PrivacyLossDistribution remove_;
  PrivacyLossDistribution add_;
};

}  // namespace tacit::privacy
