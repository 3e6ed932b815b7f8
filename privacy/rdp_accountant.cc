#include "privacy/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double LogAdd(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  double hi = std::max(a, b);
  return hi + std::log1p(std::exp(std::min(a, b) - hi));
}

double LogBinomial(int n, int k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

}  // namespace

double SampledGaussianRdp(double q, double z, int order) {
  if (q == 0) return 0;
  if (z == 0) return kInf;
  const double alpha = order;
  if (q == 1) return alpha / (2 * z * z);
  const double log_q = std::log(q);
  const double log_1mq = std::log1p(-q);
  double log_a = -kInf;
  for (int k = 0; k <= order; ++k) {
    double term = LogBinomial(order, k) + k * log_q + (order - k) * log_1mq +
                  (static_cast<double>(k) * k - k) / (2 * z * z);
    log_a = LogAdd(log_a, term);
  }
  return log_a / (alpha - 1);
}

absl::Status CheckSampledGaussianReleases(double q, double z, int64_t count) {
  if (!(q >= 0 && q <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("sampling rate must be in [0, 1], got ", q));
  }
  if (!(z >= 0) || std::isinf(z)) {
    return absl::InvalidArgumentError(absl::StrCat("noise multiplier must be >= 0, got ", z));
  }
  if (count < 0) return absl::InvalidArgumentError("release count must be >= 0");
  return absl::OkStatus();
}

double PoissonSubsampledRdp(double q, int order, const std::function<double(int)>& rdp) {
  if (q == 0) return 0;
  const double unamplified = rdp(order);
  if (q >= 1) return unamplified;
  const double alpha = order;
  const double log_q = std::log(q), log_1mq = std::log1p(-q);
  // Zhu-Wang Thm. 5: log of
  //   (1-q)^(a-1) (a q - q + 1) + C(a,2) q^2 (1-q)^(a-2) e^{rdp(2)}
  //   + 3 sum_{l=3..a} C(a,l) q^l (1-q)^(a-l) e^{(l-1) rdp(l)}.
  double log_sum = (alpha - 1) * log_1mq + std::log(alpha * q - q + 1);
  log_sum = LogAdd(log_sum, rdp(2) + LogBinomial(order, 2) + 2 * log_q + (alpha - 2) * log_1mq);
  for (int l = 3; l <= order; ++l) {
    log_sum = LogAdd(log_sum, std::log(3.0) + (l - 1) * rdp(l) + LogBinomial(order, l) + l * log_q +
                                  (alpha - l) * log_1mq);
  }
  return std::min(unamplified, log_sum / (alpha - 1));
}

absl::StatusOr<PrivacySpent> EpsilonFromRdp(const std::vector<int>& orders,
                                            const std::vector<double>& rdp, double delta,
                                            RdpConversion conversion) {
  if (!(delta > 0 && delta < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("delta must be in (0, 1), got ", delta));
  }
  if (orders.empty() || orders.size() != rdp.size()) {
    return absl::InvalidArgumentError("EpsilonFromRdp needs one RDP value per order");
  }
  PrivacySpent best{kInf, orders[0]};
  const double log_delta = std::log(delta);
  for (size_t i = 0; i < orders.size(); ++i) {
    // Zero divergence at any order means identical output distributions.
    if (rdp[i] == 0) return PrivacySpent{0.0, orders[i]};
    const double a = orders[i];
    double eps = conversion == RdpConversion::kClassic
                     ? rdp[i] - log_delta / (a - 1)
                     : rdp[i] + std::log1p(-1 / a) - (log_delta + std::log(a)) / (a - 1);
    if (eps < best.epsilon) best = {std::max(0.0, eps), orders[i]};
  }
  return best;
}

std::vector<int> RdpAccountant::DefaultOrders() {
  std::vector<int> orders;
  for (int a = 2; a <= 128; ++a) orders.push_back(a);
  for (int a : {256, 512, 1024}) orders.push_back(a);
  return orders;
}

RdpAccountant::RdpAccountant(std::vector<int> orders)
    : orders_(std::move(orders)), rdp_(orders_.size(), 0.0) {}

absl::Status RdpAccountant::ComposeSampledGaussian(double q, double z, int64_t count) {
  TACIT_RETURN_IF_ERROR(CheckSampledGaussianReleases(q, z, count));
  for (size_t i = 0; i < orders_.size(); ++i) {
    if (orders_[i] < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("RDP orders must be integers >= 2, got ", orders_[i]));
    }
    rdp_[i] += count * SampledGaussianRdp(q, z, orders_[i]);
  }
  return absl::OkStatus();
}

double GaussianDominatedRdp(double q, double z, int order) {
  if (q == 0) return 0;
  if (z == 0) return kInf;
  return PoissonSubsampledRdp(q, order, [z](int a) { return a / (2 * z * z); });
}

absl::Status RdpAccountant::ComposeGaussianDominated(double q, double z, int64_t count) {
  TACIT_RETURN_IF_ERROR(CheckSampledGaussianReleases(q, z, count));
  std::vector<double> rdp;
  rdp.reserve(orders_.size());
  for (int order : orders_) {
    if (order < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("RDP orders must be integers >= 2, got ", order));
    }
    rdp.push_back(std::max(0.0, GaussianDominatedRdp(q, z, order)));
  }
  return ComposeRdp(rdp, count);
}

absl::Status RdpAccountant::ComposeRdp(const std::vector<double>& rdp_per_release, int64_t count) {
  if (rdp_per_release.size() != orders_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("ComposeRdp needs one RDP value per order (",
                                                   orders_.size(), "), got ",
                                                   rdp_per_release.size()));
  }
  if (count < 0) return absl::InvalidArgumentError("release count must be >= 0");
  for (double value : rdp_per_release) {
    if (!(value >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("RDP values must be >= 0, got ", value));
    }
  }
  for (size_t i = 0; i < orders_.size(); ++i) rdp_[i] += count * rdp_per_release[i];
  return absl::OkStatus();
}

absl::StatusOr<PrivacySpent> RdpAccountant::Spent(double delta, RdpConversion conversion) const {
  return EpsilonFromRdp(orders_, rdp_, delta, conversion);
}

}  // namespace tacit::privacy
