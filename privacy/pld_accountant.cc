#include "privacy/pld_accountant.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "privacy/fft_convolution.h"
#include "privacy/rdp_accountant.h"

namespace tacit::privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Output range kept per direction, in noise standard deviations: beyond it
// the mass (< 1e-17) counts as infinite loss.
constexpr double kTailSigmas = 8.5;
// Mass moved per tail after each convolution (see the header).
constexpr double kTruncatedTailMass = 1e-15;

double NormalUpper(double t) { return 0.5 * std::erfc(t / std::sqrt(2.0)); }
double NormalLower(double t) { return 0.5 * std::erfc(-t / std::sqrt(2.0)); }

// L(x) = log((1-q) + q exp((2x - 1) / (2 z^2))): the remove direction's
// privacy loss at output x (the add direction's is -L(x)).
double MixtureLoss(double q, double z, double x) {
  const double u = (2 * x - 1) / (2 * z * z);
  if (u > 30) return std::log(q) + u + std::log1p((1 - q) * std::exp(-u) / q);
  return std::log1p(q * std::expm1(u));
}

// The output x with MixtureLoss(x) = loss, for loss > log(1 - q).
double MixtureLossInverse(double q, double z, double loss) {
  return z * z * (std::log(std::expm1(loss) + q) - std::log(q)) + 0.5;
}

// Exact hockey-stick divergence of one direction at eps.
double RemoveDelta(double q, double z, double eps) {
  const double excess = std::expm1(eps) + q;  // e^eps - (1 - q)
  if (excess <= 0) return -std::expm1(eps);   // every output has loss > eps
  const double x = MixtureLossInverse(q, z, eps);
  return std::max(0.0, q * NormalUpper((x - 1) / z) - excess * NormalUpper(x / z));
}

double AddDelta(double q, double z, double eps) {
  if (std::expm1(-eps) + q <= 0) return 0;  // eps >= -log(1 - q): no loss exceeds it
  const double x = MixtureLossInverse(q, z, -eps);
  const double e = std::exp(eps);
  return std::max(0.0, (1 - e * (1 - q)) * NormalLower(x / z) - e * q * NormalLower((x - 1) / z));
}

}  // namespace

PrivacyLossDistribution PrivacyLossDistribution::Identity(double interval) {
  return PrivacyLossDistribution(interval, 0, {1.0}, 0.0);
}

absl::StatusOr<PrivacyLossDistribution> PrivacyLossDistribution::SubsampledGaussian(double q,
                                                                                    double z,
                                                                                    bool remove,
                                                                                    double h) {
  if (!(q >= 0 && q <= 1) || !(z > 0) || !std::isfinite(z) || !(h > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("subsampled Gaussian PLD needs q in [0, 1], z > 0 and interval > 0; got q ", q,
                     ", z ", z, ", interval ", h));
  }
  if (q == 0) return Identity(h);
  double loss_lo, loss_hi;
  std::function<double(double)> delta;
  if (remove) {
    loss_lo = MixtureLoss(q, z, -kTailSigmas * z);
    loss_hi = MixtureLoss(q, z, 1 + kTailSigmas * z);
    delta = [q, z](double eps) { return RemoveDelta(q, z, eps); };
  } else {
    loss_lo = -MixtureLoss(q, z, kTailSigmas * z);
    loss_hi = -MixtureLoss(q, z, -kTailSigmas * z);
    delta = [q, z](double eps) { return AddDelta(q, z, eps); };
  }
  const int64_t lo = static_cast<int64_t>(std::floor(loss_lo / h));
  const int64_t hi = std::max(lo + 1, static_cast<int64_t>(std::ceil(loss_hi / h)));
  if (hi - lo > (int64_t{1} << 26)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PLD grid of ", hi - lo, " points is too large; use a coarser interval than ", h));
  }
  const size_t points = static_cast<size_t>(hi - lo) + 1;
  std::vector<double> d(points);
  for (size_t i = 0; i < points; ++i)
    d[i] = delta(static_cast<double>(lo + static_cast<int64_t>(i)) * h);
  // Connect the dots: on [eps_i, eps_{i+1}] the discrete PLD's delta is
  // inf + A_i - e^eps S_i, with A_i the mass above eps_i; matching it to the
  // exact delta at both ends gives A_i = d_i - inf + (d_i - d_{i+1}) / (e^h - 1).
  const double infinity_mass = d.back();
  const double step = std::expm1(h);
  std::vector<double> above(points, 0.0);  // A_i; A_last = 0
  for (size_t i = 0; i + 1 < points; ++i) {
    above[i] = d[i] - infinity_mass + (d[i] - d[i + 1]) / step;
  }
  std::vector<double> mass(points);
  mass[0] = std::max(0.0, (1 - infinity_mass) - above[0]);
  for (size_t i = 1; i < points; ++i) mass[i] = std::max(0.0, above[i - 1] - above[i]);
  PrivacyLossDistribution pld(h, lo, std::move(mass), infinity_mass);
  pld.TruncateTails();
  return pld;
}

absl::StatusOr<PrivacyLossDistribution> PrivacyLossDistribution::NoNoise(double q, bool remove,
                                                                         double h) {
  if (!(q >= 0 && q <= 1) || !(h > 0)) {
    return absl::InvalidArgumentError("no-noise PLD needs q in [0, 1] and interval > 0");
  }
  if (q == 1) return PrivacyLossDistribution(h, 0, {0.0}, 1.0);
  // remove: the user's output (probability q) has infinite loss, the other
  // loss log(1 - q); add: every output has loss -log(1 - q). Losses rounded up
  // to the grid (pessimistic).
  const double loss = remove ? std::log1p(-q) : -std::log1p(-q);
  const int64_t index = static_cast<int64_t>(std::ceil(loss / h));
  return remove ? PrivacyLossDistribution(h, index, {1 - q}, q)
                : PrivacyLossDistribution(h, index, {1.0}, 0.0);
}

void PrivacyLossDistribution::TruncateTails() {
  // Upper tail to infinite loss.
  double moved = 0;
  size_t end = mass_.size();
  while (end > 1 && moved + mass_[end - 1] <= kTruncatedTailMass) moved += mass_[--end];
  infinity_mass_ = std::min(1.0, infinity_mass_ + moved);
  mass_.resize(end);
  // Lower tail up to the lowest kept point.
  moved = 0;
  size_t begin = 0;
  while (begin + 1 < mass_.size() && moved + mass_[begin] <= kTruncatedTailMass) {
    moved += mass_[begin++];
  }
  if (begin > 0) {
    mass_.erase(mass_.begin(), mass_.begin() + static_cast<std::ptrdiff_t>(begin));
    mass_[0] += moved;
    offset_ += static_cast<int64_t>(begin);
  }
}

absl::StatusOr<PrivacyLossDistribution> PrivacyLossDistribution::Compose(
    const PrivacyLossDistribution& other) const {
  if (interval_ != other.interval_) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot compose PLDs of intervals ", interval_, " and ", other.interval_));
  }
  PrivacyLossDistribution out(
      interval_, offset_ + other.offset_, ConvolveNonNegative(mass_, other.mass_),
      infinity_mass_ + other.infinity_mass_ - infinity_mass_ * other.infinity_mass_);
  out.TruncateTails();
  return out;
}

absl::StatusOr<PrivacyLossDistribution> PrivacyLossDistribution::SelfCompose(int64_t count) const {
  if (count < 0) return absl::InvalidArgumentError("composition count must be >= 0");
  PrivacyLossDistribution result = Identity(interval_);
  PrivacyLossDistribution power = *this;
  while (count > 0) {
    if (count & 1) {
      TACIT_ASSIGN_OR_RETURN(result, result.Compose(power));
    }
    count >>= 1;
    if (count > 0) {
      TACIT_ASSIGN_OR_RETURN(power, power.Compose(power));
    }
  }
  return result;
}

double PrivacyLossDistribution::DeltaForEpsilon(double epsilon) const {
  double delta = infinity_mass_;
  for (size_t i = mass_.size(); i-- > 0;) {
    const double loss = static_cast<double>(offset_ + static_cast<int64_t>(i)) * interval_;
    if (loss <= epsilon) break;
    delta += mass_[i] * -std::expm1(epsilon - loss);
  }
  return std::min(1.0, delta);
}

double PrivacyLossDistribution::EpsilonForDelta(double delta) const {
  if (infinity_mass_ > delta) return kInf;
  // Walk down from the largest loss, keeping A = mass above and S = sum of
  // mass e^{-loss} above; on the segment below loss_i, delta(eps) =
  // inf + A - e^eps S, decreasing in eps.
  double above = 0, weighted = 0;
  for (size_t i = mass_.size(); i-- > 0;) {
    const double loss = static_cast<double>(offset_ + static_cast<int64_t>(i)) * interval_;
    above += mass_[i];
    weighted += mass_[i] * std::exp(-loss);
    const double lower = i > 0 ? loss - interval_ : -kInf;
    if (loss <= 0 || (i > 0 && infinity_mass_ + above - std::exp(lower) * weighted >= delta) ||
        i == 0) {
      if (weighted <= 0) return std::max(0.0, lower);
      const double eps = std::log((infinity_mass_ + above - delta) / weighted);
      return std::max(0.0, std::min(eps, loss));
    }
  }
  return 0.0;
}

PldAccountant::PldAccountant(Adjacency adjacency, double interval)
    : adjacency_(adjacency),
      interval_(interval),
      remove_(PrivacyLossDistribution::Identity(interval)),
      add_(PrivacyLossDistribution::Identity(interval)) {}

absl::Status PldAccountant::ComposeSampledGaussian(double q, double z, int64_t count) {
  TACIT_RETURN_IF_ERROR(CheckSampledGaussianReleases(q, z, count));
  if (!(interval_ > 0)) return absl::InvalidArgumentError("PLD interval must be > 0");
  if (q == 0 || count == 0) return absl::OkStatus();
  for (bool remove : {true, false}) {
    if ((remove && adjacency_ == Adjacency::kAdd) ||
        (!remove && adjacency_ == Adjacency::kRemove)) {
      continue;
    }
    PrivacyLossDistribution& total = remove ? remove_ : add_;
    if (z == 0) {
      TACIT_ASSIGN_OR_RETURN(PrivacyLossDistribution one,
                             PrivacyLossDistribution::NoNoise(q, remove, interval_));
      TACIT_ASSIGN_OR_RETURN(PrivacyLossDistribution many, one.SelfCompose(count));
      TACIT_ASSIGN_OR_RETURN(total, total.Compose(many));
      continue;
    }
    TACIT_ASSIGN_OR_RETURN(PrivacyLossDistribution one,
                           PrivacyLossDistribution::SubsampledGaussian(q, z, remove, interval_));
    TACIT_ASSIGN_OR_RETURN(PrivacyLossDistribution many, one.SelfCompose(count));
    TACIT_ASSIGN_OR_RETURN(total, total.Compose(many));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> PldAccountant::Delta(double epsilon) const {
  double delta = 0;
  if (adjacency_ != Adjacency::kAdd) delta = std::max(delta, remove_.DeltaForEpsilon(epsilon));
  if (adjacency_ != Adjacency::kRemove) delta = std::max(delta, add_.DeltaForEpsilon(epsilon));
  return delta;
}

absl::StatusOr<double> PldAccountant::Epsilon(double delta) const {
  if (!(delta > 0 && delta < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("delta must be in (0, 1), got ", delta));
  }
  double eps = 0;
  if (adjacency_ != Adjacency::kAdd) eps = std::max(eps, remove_.EpsilonForDelta(delta));
  if (adjacency_ != Adjacency::kRemove) eps = std::max(eps, add_.EpsilonForDelta(delta));
  return eps;
}

}  // namespace tacit::privacy
