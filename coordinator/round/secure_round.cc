#include "coordinator/round/secure_round.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "privacy/ddg_encoding.h"
#include "privacy/distributed_discrete_gaussian.h"
#include "secure_agg/fixed_point.h"
#include "task/ddg_task.h"

namespace tacit::coordinator {

absl::StatusOr<RoundAggregate> MakeRoundAggregate(const RoundPlan& plan,
                                                  const std::vector<double>& weighted_sum,
                                                  double total_weight,
                                                  std::vector<uint32_t> survivors) {
  const int count = static_cast<int>(survivors.size());
  if (count < plan.min_survivors) {
    return absl::AbortedError(absl::StrCat("round ", plan.round_id, ": only ", count,
                                           " updates reached the sum, fewer than the ",
                                           plan.min_survivors, " required (cohort.min_survivors)"));
  }
  if (!(total_weight > 0)) {
    return absl::AbortedError(
        absl::StrCat("round ", plan.round_id, ": the survivors' total weight is zero"));
  }
  const uint64_t evaluation_length = plan.evaluation ? kEvaluationCoordinates : 0;
  if (weighted_sum.size() != plan.model_length + evaluation_length) {
    return absl::InternalError(absl::StrCat("round ", plan.round_id, ": the sum has ",
                                            weighted_sum.size(), " coordinates, the plan ",
                                            plan.model_length + evaluation_length));
  }
  RoundAggregate aggregate;
  aggregate.total_weight = total_weight;
  aggregate.mean_update.resize(plan.model_length);
  for (size_t i = 0; i < plan.model_length; ++i) {
    aggregate.mean_update[i] = static_cast<float>(weighted_sum[i] / total_weight);
  }
  if (plan.evaluation) {
    // The counts are summed, not averaged: they are not divided by the weight.
    TACIT_ASSIGN_OR_RETURN(
        aggregate.evaluation,
        DecodeEvaluation(*plan.evaluation,
                         absl::MakeConstSpan(weighted_sum).subspan(plan.model_length), plan.scale,
                         survivors.size()));
  }
  aggregate.survivors = std::move(survivors);
  return aggregate;
}

absl::StatusOr<DecodedSum> DecodeSum(const RoundPlan& plan,
                                     const secagg::AggregationResult& result) {
  DecodedSum decoded;
  decoded.total_weight = result.total_weight;
  if (!plan.ddg && !plan.compression) {
    decoded.weighted_sum = result.weighted_sum;
    return decoded;
  }
  const size_t encoded = plan.encoded_model_length;
  if (result.quantized_sum.size() != plan.vector_length + 1 ||
      result.weighted_sum.size() != plan.vector_length) {
    return absl::InternalError(absl::StrCat("round ", plan.round_id, ": the sum has ",
                                            result.quantized_sum.size(), " values, the plan ",
                                            plan.vector_length + 1));
  }
  if (plan.compression) {
    // The level sums are unsigned: back to residues, then unrotated.
    std::vector<uint64_t> level_sums(encoded);
    for (size_t i = 0; i < encoded; ++i) {
      level_sums[i] = secagg::ToModular(result.quantized_sum[i], plan.bits);
    }
    TACIT_ASSIGN_OR_RETURN(
        decoded.weighted_sum,
        DecodeRotatedSum(level_sums, *plan.compression, DdgRotationSeed(plan.round_id),
                         static_cast<int64_t>(result.survivor_ids.size())));
    decoded.weighted_sum.insert(decoded.weighted_sum.end(), result.weighted_sum.begin() + encoded,
                                result.weighted_sum.end());
    return decoded;
  }
  // Honest encodings have integer L2 norm at most Delta_2 each (conditional
  // rounding) plus noise of variance sigma^2 per coordinate: the sum of s of
  // them lies within s Delta_2 + sqrt(s sigma^2) (sqrt(D) + 8) except with
  // probability about exp(-32) (the noise is sub-Gaussian). Beyond it, a
  // client masked a crafted vector (or the sum wrapped): nothing to apply.
  const privacy::DdgMechanism& m = plan.ddg->mechanism;
  TACIT_ASSIGN_OR_RETURN(double sensitivity, privacy::DdgL2Sensitivity(m));
  const double survivors = static_cast<double>(result.survivor_ids.size());
  const double bound = survivors * sensitivity + std::sqrt(survivors * (m.local_variance + 0.25)) *
                                                     (std::sqrt(static_cast<double>(encoded)) + 8);
  double square = 0;
  std::vector<uint64_t> modular(encoded);
  for (size_t i = 0; i < encoded; ++i) {
    const double v = static_cast<double>(result.quantized_sum[i]);
    square += v * v;
    modular[i] = secagg::ToModular(result.quantized_sum[i], plan.bits);
  }
  if (!(std::sqrt(square) <= bound)) {
    return absl::DataLossError(absl::StrCat(
        "round ", plan.round_id, " failed on decode: the discrete Gaussian sum of ",
        result.survivor_ids.size(), " updates has norm ", std::sqrt(square) * m.gamma,
        ", beyond the ", bound * m.gamma,
        " that clipped, noised updates can reach: a client masked a crafted vector; the round "
        "is abandoned"));
  }
  TACIT_ASSIGN_OR_RETURN(
      decoded.weighted_sum,
      privacy::DecodeDdgSum(modular, *plan.ddg, DdgRotationSeed(plan.round_id), plan.model_length));
  // The evaluation sums stay fixed point.
  decoded.weighted_sum.insert(decoded.weighted_sum.end(), result.weighted_sum.begin() + encoded,
                              result.weighted_sum.end());
  return decoded;
}

absl::StatusOr<std::unique_ptr<SecureRound>> SecureRound::Create(
    const RoundPlan& plan, std::shared_ptr<const secagg::IdentityVerifier> verifier) {
  secagg::ServerConfig config;
  config.round_id = plan.round_id;
  config.cohort_ids = plan.cohort;
  config.threshold = plan.threshold;
  config.neighbors = plan.neighbors;
  config.bits = plan.bits;
  config.clip_bound = plan.clip_range;
  config.scale = plan.scale;
  config.max_weight = plan.max_weight;
  // Uniform weighting sends exactly 1, weighting by examples min(examples,
  // max_weight) with at least one example: a total weight below one per
  // survivor was crafted (it would blow the mean up past the clip bound).
  config.min_weight = std::min(1.0, plan.max_weight);
  config.vector_length = plan.vector_length;
  // The discrete Gaussian's and the compression's integers are not fixed
  // point (DecodeSum decodes them).
  config.unchecked_prefix = plan.ddg || plan.compression ? plan.encoded_model_length : 0;
  config.verifier = std::move(verifier);
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<secagg::RoundDriver> driver,
                         secagg::RoundDriver::Create(std::move(config)));
  return std::unique_ptr<SecureRound>(new SecureRound(plan, std::move(driver)));
}

absl::StatusOr<secagg::ServerMessages> SecureRound::Start() { return driver_->Start(); }

absl::Status SecureRound::Receive(uint32_t client_id, const v1::SecAggClientToServer& message) {
  return driver_->Receive(client_id, message);
}

absl::StatusOr<SecureRound::Step> SecureRound::EndPhase() {
  TACIT_ASSIGN_OR_RETURN(secagg::RoundDriver::Step ended, driver_->EndPhase());
  Step step;
  step.messages = std::move(ended.messages);
  if (ended.result.has_value()) {
    const secagg::AggregationResult& result = *ended.result;
    TACIT_ASSIGN_OR_RETURN(DecodedSum sum, DecodeSum(plan_, result));
    TACIT_ASSIGN_OR_RETURN(
        step.aggregate,
        MakeRoundAggregate(plan_, sum.weighted_sum, sum.total_weight, result.survivor_ids));
  }
  return step;
}

absl::StatusOr<RoundAggregate> SecureRound::Run(secagg::Delivery& delivery) {
  TACIT_ASSIGN_OR_RETURN(secagg::AggregationResult result, secagg::RunRound(*driver_, delivery));
  TACIT_ASSIGN_OR_RETURN(DecodedSum sum, DecodeSum(plan_, result));
  return MakeRoundAggregate(plan_, sum.weighted_sum, sum.total_weight,
                            std::move(result.survivor_ids));
}

}  // namespace tacit::coordinator
