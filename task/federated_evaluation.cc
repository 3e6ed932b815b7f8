#include "task/federated_evaluation.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tacit {
namespace {

// Order of the appended coordinates.
enum Coordinate { kClients = 0, kPredictions, kTop1, kTop3, kLoss };

// The count one coordinate's full range [0, clip_range] stands for.
std::array<double, kEvaluationCoordinates> Units(const EvaluationEncoding& encoding) {
  const double m = static_cast<double>(encoding.max_predictions);
  return {1.0, m, m, m, m * kMaxMeanLoss};
}

absl::Status ValidateEncoding(const EvaluationEncoding& encoding) {
  if (encoding.max_predictions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("evaluation.max_predictions must be >= 1, got ", encoding.max_predictions));
  }
  if (!(encoding.clip_range > 0) || !std::isfinite(encoding.clip_range)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the evaluation encoding needs a positive clip range, got ", encoding.clip_range));
  }
  if (!(encoding.max_weight >= 1) || !std::isfinite(encoding.max_weight)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the evaluation encoding needs a weight cap >= 1, got ", encoding.max_weight));
  }
  return absl::OkStatus();
}

// The float nearest to `v` from below: the quantizer clips at clip_range in
// double, so a value rounded up past it would lose part of its count.
float FloatNotAbove(double v) {
  float f = static_cast<float>(v);
  if (static_cast<double>(f) > v) f = std::nextafter(f, 0.0f);
  return f;
}

}  // namespace

std::optional<EvaluationEncoding> EvaluationEncodingOf(const TaskConfig& task, double max_weight) {
  if (!task.evaluation.enabled) return std::nullopt;
  return EvaluationEncoding{task.evaluation.max_predictions, task.secure_agg.clip_range,
                            max_weight};
}

absl::StatusOr<std::array<float, kEvaluationCoordinates>> EncodeEvaluation(
    const EvaluationEncoding& encoding, const EvaluationCounts& counts, double weight) {
  if (absl::Status valid = ValidateEncoding(encoding); !valid.ok()) return valid;
  if (counts.clients < 0 || counts.clients > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("one client's evaluation counts 0 or 1 clients, got ", counts.clients));
  }
  if (counts.predictions < 0 || counts.predictions > encoding.max_predictions) {
    return absl::InvalidArgumentError(
        absl::StrCat("evaluation predictions ", counts.predictions,
                     " outside [0, max_predictions = ", encoding.max_predictions, "]"));
  }
  if (counts.top1_correct < 0 || counts.top1_correct > counts.top3_correct ||
      counts.top3_correct > counts.predictions) {
    return absl::InvalidArgumentError(
        absl::StrCat("evaluation hits must satisfy 0 <= top-1 <= top-3 <= predictions, got ",
                     counts.top1_correct, ", ", counts.top3_correct, ", ", counts.predictions));
  }
  if (!(counts.loss_sum >= 0) || !std::isfinite(counts.loss_sum)) {
    return absl::InvalidArgumentError(
        absl::StrCat("evaluation loss must be finite and >= 0, got ", counts.loss_sum));
  }
  if (!std::isfinite(weight) || weight < 0) {
    return absl::InvalidArgumentError(absl::StrCat("weight must be finite and >= 0, got ", weight));
  }
  std::array<float, kEvaluationCoordinates> out{};
  // The quantizer caps the weight; the counts must be divided by the weight
  // it will actually multiply with.
  const double w = std::min(weight, encoding.max_weight);
  if (w < 1 || counts.clients == 0) return out;  // not evaluated: adds nothing
  const std::array<double, kEvaluationCoordinates> units = Units(encoding);
  const std::array<double, kEvaluationCoordinates> values = {
      1.0, static_cast<double>(counts.predictions), static_cast<double>(counts.top1_correct),
      static_cast<double>(counts.top3_correct),
      std::min(counts.loss_sum, kMaxMeanLoss * static_cast<double>(counts.predictions))};
  for (size_t i = 0; i < kEvaluationCoordinates; ++i) {
    out[i] = FloatNotAbove(values[i] / units[i] * encoding.clip_range / w);
  }
  return out;
}

absl::StatusOr<FederatedEvaluation> DecodeEvaluation(const EvaluationEncoding& encoding,
                                                     absl::Span<const double> weighted_sums,
                                                     double scale, size_t survivors) {
  if (absl::Status valid = ValidateEncoding(encoding); !valid.ok()) return valid;
  if (weighted_sums.size() != kEvaluationCoordinates) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", kEvaluationCoordinates,
                                                   " evaluation sums, got ", weighted_sums.size()));
  }
  if (!(scale > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("fixed-point scale must be > 0, got ", scale));
  }
  const std::array<double, kEvaluationCoordinates> units = Units(encoding);
  std::array<double, kEvaluationCoordinates> sums{};
  for (size_t i = 0; i < kEvaluationCoordinates; ++i) {
    sums[i] = std::max(0.0, weighted_sums[i] * units[i] / encoding.clip_range);
  }
  auto count = [](double x) { return static_cast<int64_t>(std::llround(x)); };
  FederatedEvaluation result;
  result.sums.clients = count(sums[kClients]);
  result.sums.predictions = count(sums[kPredictions]);
  result.sums.top1_correct = count(sums[kTop1]);
  result.sums.top3_correct = count(sums[kTop3]);
  result.sums.loss_sum = sums[kLoss];
  // Per survivor: under one fixed-point quantum of stochastic rounding, and
  // under one float ulp (2^-23 relative) from the client's float vector.
  const double m = static_cast<double>(encoding.max_predictions);
  result.count_error_bound =
      static_cast<double>(survivors) * (m / (scale * encoding.clip_range) + m * 0x1p-23);
  if (result.sums.predictions > 0) {
    const double n = static_cast<double>(result.sums.predictions);
    result.top1 = std::min(1.0, static_cast<double>(result.sums.top1_correct) / n);
    result.top3 = std::min(1.0, static_cast<double>(result.sums.top3_correct) / n);
    result.loss = result.sums.loss_sum / n;
  }
  return result;
}

nlohmann::json FederatedEvaluationJson(const FederatedEvaluation& e, int64_t model_version) {
  return {{"model_version", model_version},
          {"clients", e.sums.clients},
          {"predictions", e.sums.predictions},
          {"top1_correct", e.sums.top1_correct},
          {"top3_correct", e.sums.top3_correct},
          {"loss_sum", e.sums.loss_sum},
          {"top1", e.top1},
          {"top3", e.top3},
          {"loss", e.loss},
          {"count_error_bound", e.count_error_bound}};
}

}  // namespace tacit
