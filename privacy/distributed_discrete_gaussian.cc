#include "privacy/distributed_discrete_gaussian.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "privacy/conditional_rounding.h"

namespace tacit::privacy {
namespace {

constexpr double kPi = 3.14159265358979323846;

absl::Status CheckMechanism(const DdgMechanism& m) {
  if (!(m.clip > 0) || !(m.gamma > 0) || !(m.local_variance > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("DDG needs clip, gamma and local variance > 0, got ", m.clip, ", ", m.gamma,
                     ", ", m.local_variance));
  }
  if (!(m.beta >= 0 && m.beta < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("DDG beta must be in [0, 1), got ", m.beta));
  }
  if (m.dim < 1 || m.min_clients < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DDG needs dimension >= 1 and min clients >= 1, got ", m.dim, " and ", m.min_clients));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> DdgTau(double local_variance, int64_t min_clients) {
  if (!(local_variance > 0) || min_clients < 1) {
    return absl::InvalidArgumentError("tau needs sigma^2 > 0 and n >= 1");
  }
  double tau = 0;
  for (int64_t k = 1; k < min_clients; ++k) {
    const double term =
        std::exp(-2 * kPi * kPi * local_variance * static_cast<double>(k) / (k + 1));
    tau += term;
    // k / (k+1) grows with k, so terms only shrink: once one underflows to
    // zero, every later one does too.
    if (term == 0) break;
  }
  return 10 * tau;
}

absl::StatusOr<double> DdgL2Sensitivity(const DdgMechanism& m) {
  TACIT_RETURN_IF_ERROR(CheckMechanism(m));
  return RoundedNormBound(m.clip / m.gamma, m.beta, static_cast<size_t>(m.dim));
}

absl::StatusOr<double> DdgDominatingNoiseMultiplier(const DdgMechanism& m) {
  TACIT_ASSIGN_OR_RETURN(double l2, DdgL2Sensitivity(m));
  TACIT_ASSIGN_OR_RETURN(double tau, DdgTau(m.local_variance, m.min_clients));
  const double central_sd = std::sqrt(static_cast<double>(m.min_clients) * m.local_variance);
  return 1 / (l2 / central_sd + std::sqrt(static_cast<double>(m.dim)) * tau);
}

absl::StatusOr<std::vector<double>> DdgRdpPerRound(const DdgMechanism& m, double q,
                                                   const std::vector<int>& orders,
                                                   SubsamplingBound bound) {
  TACIT_ASSIGN_OR_RETURN(double l2, DdgL2Sensitivity(m));
  if (!(q > 0 && q <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("sampling rate must be in (0, 1], got ", q));
  }
  TACIT_ASSIGN_OR_RETURN(double tau, DdgTau(m.local_variance, m.min_clients));
  const double d = static_cast<double>(m.dim);
  const double l1 = l2 * std::min(std::sqrt(d), l2);
  const double central_sd = std::sqrt(static_cast<double>(m.min_clients) * m.local_variance);
  const double s2 = l2 / central_sd, s1 = l1 / central_sd;
  auto rdp = [&](int order) {
    const double a = order;
    const double t1 = a / 2 * s2 * s2 + tau * d;
    const double t2 = a / 2 * (s2 * s2 + 2 * s1 * tau + tau * tau * d);
    const double t3 = a / 2 * (s2 + std::sqrt(d) * tau) * (s2 + std::sqrt(d) * tau);
    return std::min({t1, t2, t3});
  };
  std::vector<double> out;
  out.reserve(orders.size());
  for (int order : orders) {
    if (order < 2) {
      return absl::InvalidArgumentError(absl::StrCat("RDP orders must be >= 2, got ", order));
    }
    double value;
    if (bound == SubsamplingBound::kGaussianShape) {
      const double z_eff = 1 / (s2 + std::sqrt(d) * tau);
      value = std::min(rdp(order), SampledGaussianRdp(q, z_eff, order));
    } else {
      value = PoissonSubsampledRdp(q, order, rdp);
    }
    // RDP is >= 0; the log-sum-exp of terms summing to ~1 can round to -1e-17.
    out.push_back(std::max(0.0, value));
  }
  return out;
}

absl::StatusOr<PrivacySpent> DdgEpsilon(const DdgMechanism& m, double q, int64_t rounds,
                                        double delta, SubsamplingBound bound) {
  RdpAccountant accountant;
  TACIT_ASSIGN_OR_RETURN(std::vector<double> rdp, DdgRdpPerRound(m, q, accountant.orders(), bound));
  TACIT_RETURN_IF_ERROR(accountant.ComposeRdp(rdp, rounds));
  return accountant.Spent(delta);
}

absl::StatusOr<double> ModularWrapProbability(const DdgMechanism& m, int64_t max_clients,
                                              int bits) {
  TACIT_RETURN_IF_ERROR(CheckMechanism(m));
  if (bits < 2 || bits > 62) {
    return absl::InvalidArgumentError(absl::StrCat("bits must be in [2, 62], got ", bits));
  }
  if (max_clients < m.min_clients) {
    return absl::InvalidArgumentError("max clients must be >= min clients");
  }
  const double n = static_cast<double>(max_clients), d = static_cast<double>(m.dim);
  const double margin = std::ldexp(1.0, bits - 1) - n - 1;
  if (margin <= 0) return 1.0;
  const double signal = n * m.clip / m.gamma;
  const double v = signal * signal / d + n * m.local_variance;
  return std::min(1.0, 2 * d * std::exp(-margin * margin / (2 * v)));
}

}  // namespace tacit::privacy
