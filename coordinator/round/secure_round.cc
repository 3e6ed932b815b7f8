#include "coordinator/round/secure_round.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::coordinator {

const char* AggregationPhaseName(int phase_index) {
  static constexpr const char* kNames[kAggregationPhases] = {"advertise_keys", "share_keys",
                                                             "masked_input", "unmasking"};
  return phase_index >= 0 && phase_index < kAggregationPhases ? kNames[phase_index] : "none";
}

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
  if (weighted_sum.size() != plan.vector_length || plan.model_length > plan.vector_length) {
    return absl::InternalError(absl::StrCat("round ", plan.round_id, ": the sum has ",
                                            weighted_sum.size(), " coordinates, the plan ",
                                            plan.vector_length));
  }
  RoundAggregate aggregate;
  aggregate.total_weight = total_weight;
  aggregate.mean_update.resize(plan.model_length);
  for (size_t i = 0; i < plan.model_length; ++i) {
    aggregate.mean_update[i] = static_cast<float>(weighted_sum[i] / total_weight);
  }
  if (plan.evaluation) {
    if (plan.vector_length - plan.model_length != kEvaluationCoordinates) {
      return absl::InternalError(absl::StrCat("round ", plan.round_id,
                                              ": the plan evaluates but has no room for the ",
                                              kEvaluationCoordinates, " evaluation sums"));
    }
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

absl::StatusOr<std::unique_ptr<SecureRound>> SecureRound::Create(const RoundPlan& plan) {
  secagg::ServerConfig config;
  config.round_id = plan.round_id;
  config.cohort_ids = plan.cohort;
  config.threshold = plan.threshold;
  config.neighbors = plan.neighbors;
  config.bits = plan.bits;
  config.clip_bound = plan.clip_range;
  config.scale = plan.scale;
  config.max_weight = plan.max_weight;
  config.vector_length = plan.vector_length;
  TACIT_ASSIGN_OR_RETURN(std::unique_ptr<secagg::SecAggServer> server,
                         secagg::SecAggServer::Create(std::move(config)));
  return std::unique_ptr<SecureRound>(new SecureRound(plan, std::move(server)));
}

int64_t SecureRound::CountSent(const std::map<uint32_t, v1::SecAggServerToClient>& messages) {
  int64_t bytes = 0;
  for (const auto& [id, message] : messages) bytes += static_cast<int64_t>(message.ByteSizeLong());
  bytes_sent_ += bytes;
  return bytes;
}

absl::StatusOr<std::map<uint32_t, v1::SecAggServerToClient>> SecureRound::Start() {
  if (phase_index_ != -1 || server_->phase() != secagg::ServerPhase::kNotStarted) {
    return absl::FailedPreconditionError("the round was already started");
  }
  TACIT_ASSIGN_OR_RETURN(secagg::PhaseOutcome outcome, server_->AdvancePhase());
  phase_index_ = 0;
  CountSent(outcome.messages);
  return std::move(outcome.messages);
}

absl::Status SecureRound::Receive(uint32_t client_id, const v1::SecAggClientToServer& message) {
  TACIT_RETURN_IF_ERROR(server_->HandleClientMessage(client_id, message));
  bytes_received_ += static_cast<int64_t>(message.ByteSizeLong());
  return absl::OkStatus();
}

absl::StatusOr<SecureRound::Step> SecureRound::EndPhase() {
  if (phase_index_ < 0 || phase_index_ >= kAggregationPhases) {
    return absl::FailedPreconditionError("no secure aggregation phase is open");
  }
  dropouts_[phase_index_] += static_cast<int>(server_->PendingClients().size());
  const int ended = phase_index_;
  auto outcome = server_->AdvancePhase();
  if (!outcome.ok()) {
    phase_index_ = kAggregationPhases;
    return absl::Status(
        outcome.status().code(),
        absl::StrCat("round ", plan_.round_id, " failed after phase ", AggregationPhaseName(ended),
                     ": ", outcome.status().message()));
  }
  ++phase_index_;
  Step step;
  CountSent(outcome->messages);
  step.messages = std::move(outcome->messages);
  if (outcome->result.has_value()) {
    phase_index_ = kAggregationPhases;
    const secagg::AggregationResult& result = *outcome->result;
    TACIT_ASSIGN_OR_RETURN(
        RoundAggregate aggregate,
        MakeRoundAggregate(plan_, result.weighted_sum, result.total_weight, result.survivor_ids));
    step.aggregate = std::move(aggregate);
  }
  return step;
}

}  // namespace tacit::coordinator
