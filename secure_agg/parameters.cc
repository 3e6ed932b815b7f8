#include "secure_agg/parameters.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tacit::secagg {
namespace {

double Log2Choose(uint32_t n, uint32_t k) {
  return (std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0)) / std::log(2.0);
}

// log2 of P[X < x] for X ~ Binomial(n, p).
double Log2BinomialLowerTail(uint32_t n, double p, uint32_t x) {
  if (x == 0) return -std::numeric_limits<double>::infinity();
  // P[X < x] = P[n - X > n - x] = P[Y >= n - x + 1], Y ~ Binomial(n, 1 - p).
  if (x > n) return 0;
  return Log2BinomialUpperTail(n, 1 - p, n - x + 1);
}

absl::Status ValidateRates(const ParameterRequest& r) {
  if (r.cohort_size < 3) {
    return absl::InvalidArgumentError("secure aggregation needs a cohort of at least 3");
  }
  if (!(r.dropout_rate >= 0 && r.dropout_rate < 1) ||
      !(r.corruption_rate >= 0 && r.corruption_rate < 0.5)) {
    return absl::InvalidArgumentError(
        "dropout_rate must be in [0, 1) and corruption_rate in [0, 0.5)");
  }
  return absl::OkStatus();
}

// How many of a client's h share holders an active server must control to
// obtain both of its secrets with threshold t: 2t - h, by showing two groups of
// honest holders different survivor lists (docs/secure_aggregation.md); a
// passive server needs t, which is never fewer.
uint32_t CorruptHoldersToBreak(uint32_t t, uint32_t holders) {
  return 2 * t > holders ? 2 * t - holders : 0;
}

// SecAgg+ with degree k and threshold t: privacy fails when (a) 2t - (k + 1)
// or more of a client's k neighbours are corrupted (a split view, see above)
// or (b) the honest surviving part of the Harary ring is cut (k/2 consecutive
// removed positions); correctness fails when a client keeps fewer than t
// surviving neighbours (its own shares are gone when it dropped). Union bounds
// over the cohort.
ChosenParameters SparseBounds(const ParameterRequest& r, uint32_t t, uint32_t k) {
  const double log2n = std::log2(static_cast<double>(r.cohort_size));
  const double removed = std::min(1.0, r.corruption_rate + r.dropout_rate);
  const double log2_cut =
      removed > 0 ? log2n + (k / 2) * std::log2(removed) : -std::numeric_limits<double>::infinity();
  ChosenParameters out;
  out.threshold = t;
  out.neighbors = k;
  out.holders = k + 1;
  out.log2_privacy_failure = std::min(
      0.0,
      std::max(log2n + Log2BinomialUpperTail(k, r.corruption_rate, CorruptHoldersToBreak(t, k + 1)),
               log2_cut));
  out.log2_correctness_failure =
      std::min(0.0, log2n + Log2BinomialLowerTail(k, 1 - r.dropout_rate, t));
  return out;
}

// Complete graph: at most floor(corruption_rate * n) corrupted holders, so a
// threshold that needs more than that (even with a split view) is private with
// certainty under the bound.
ChosenParameters CompleteBounds(const ParameterRequest& r, uint32_t t) {
  const uint32_t n = r.cohort_size;
  const uint32_t corrupt = static_cast<uint32_t>(std::floor(r.corruption_rate * n));
  ChosenParameters out;
  out.threshold = t;
  out.neighbors = 0;
  out.holders = n;
  out.log2_privacy_failure =
      CorruptHoldersToBreak(t, n) > corrupt ? -std::numeric_limits<double>::infinity() : 0.0;
  out.log2_correctness_failure = Log2BinomialLowerTail(n, 1 - r.dropout_rate, t);
  return out;
}

}  // namespace

double Log2BinomialUpperTail(uint32_t n, double p, uint32_t x) {
  if (x == 0) return 0;
  if (x > n || p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return 0;
  const double lp = std::log2(p);
  const double lq = std::log2(1 - p);
  double max_term = -std::numeric_limits<double>::infinity();
  std::vector<double> terms;
  for (uint32_t i = x; i <= n; ++i) {
    terms.push_back(Log2Choose(n, i) + i * lp + (n - i) * lq);
    max_term = std::max(max_term, terms.back());
  }
  double sum = 0;
  for (double t : terms) sum += std::exp2(t - max_term);
  return std::min(0.0, max_term + std::log2(sum));
}

uint32_t ActiveSecureThreshold(uint32_t holders) { return 2 * holders / 3 + 1; }

absl::StatusOr<ChosenParameters> ChooseParameters(const ParameterRequest& r) {
  if (absl::Status s = ValidateRates(r); !s.ok()) return s;
  const uint32_t n = r.cohort_size;
  const double log2n = std::log2(static_cast<double>(n));

  // SecAgg+: the smallest even k for which a threshold t exists that (a) keeps
  // the corrupted neighbours of every client below t, (b) keeps the honest
  // surviving part of the Harary ring connected (a cut needs k/2 consecutive
  // removed positions), (c) exceeds two thirds of the k + 1 holders (what clients
  // accept, see ActiveSecureThreshold), all with
  // probability >= 1 - 2^-security_bits over the cohort; then report (d) the
  // chance that some client keeps fewer than t surviving holders.
  if (n > r.complete_graph_up_to) {
    const double removed = std::min(1.0, r.corruption_rate + r.dropout_rate);
    for (uint32_t k = 2; k + 2 < n; k += 2) {
      const double log2_cut = log2n + (k / 2) * std::log2(removed);
      if (removed > 0 && log2_cut > -r.security_bits) continue;
      for (uint32_t t = ActiveSecureThreshold(k + 1); t <= k; ++t) {
        ChosenParameters bounds = SparseBounds(r, t, k);
        if (bounds.log2_privacy_failure > -r.security_bits) continue;
        if (bounds.log2_correctness_failure > -r.correctness_bits) break;  // larger t: worse
        return bounds;
      }
    }
  }

  // Complete graph: t = max(corrupted bound + 1, two thirds) is private with
  // certainty under the bound, against a split view too.
  const uint32_t corrupt = static_cast<uint32_t>(std::floor(r.corruption_rate * n));
  return CompleteBounds(r, std::max(corrupt + 1, ActiveSecureThreshold(n)));
}

absl::StatusOr<ChosenParameters> EvaluateParameters(const ParameterRequest& r, uint32_t threshold,
                                                    uint32_t neighbors) {
  if (absl::Status s = ValidateRates(r); !s.ok()) return s;
  const uint32_t holders = neighbors == 0 ? r.cohort_size : neighbors + 1;
  if (threshold < 1 || threshold > holders) {
    return absl::InvalidArgumentError(absl::StrCat("threshold ", threshold,
                                                   " must be between 1 and the ", holders,
                                                   " share holders per client"));
  }
  return neighbors == 0 ? CompleteBounds(r, threshold) : SparseBounds(r, threshold, neighbors);
}

}  // namespace tacit::secagg
