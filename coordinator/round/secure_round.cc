#include "coordinator/round/secure_round.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tacit::coordinator {

const char* AggregationPhaseName(int phase_index) {
  static constexpr const char* kNames[kAggregationPhases] = {"advertise_keys", "share_keys",
                                                             "masked_input", "unmasking"};
  return phase_index >= 0 && phase_index < kAggregationPhases ? kNames[phase_index] : "none";
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
    const int survivors = static_cast<int>(result.survivor_ids.size());
    if (survivors < plan_.min_survivors) {
      return absl::AbortedError(absl::StrCat("round ", plan_.round_id, ": only ", survivors,
                                             " updates reached the sum, fewer than the ",
                                             plan_.min_survivors,
                                             " required (cohort.min_survivors)"));
    }
    if (!(result.total_weight > 0)) {
      return absl::AbortedError(
          absl::StrCat("round ", plan_.round_id, ": the survivors' total weight is zero"));
    }
    RoundAggregate aggregate;
    aggregate.total_weight = result.total_weight;
    aggregate.survivors = result.survivor_ids;
    aggregate.mean_update.resize(result.weighted_sum.size());
    for (size_t i = 0; i < result.weighted_sum.size(); ++i) {
      aggregate.mean_update[i] = static_cast<float>(result.weighted_sum[i] / result.total_weight);
    }
    step.aggregate = std::move(aggregate);
  }
  return step;
}

}  // namespace tacit::coordinator
