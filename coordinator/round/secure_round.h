#pragma once

// The coordinator's side of one round's secure aggregation, over any transport:
// it wraps the SecAgg server with what an operator needs to know of a round
// (who dropped in which phase, bytes in and out) and the rule that a round
// commits only with at least min_survivors updates in the sum. The transport
// delivers client messages and decides when a phase ends (all answered, or the
// phase deadline passed); nothing here has a clock.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/round/round_plan.h"
#include "secure_agg/server.h"
#include "task/federated_evaluation.h"

namespace tacit::coordinator {

// The secure aggregation phases in order, as indices into per-phase counters.
enum class AggregationPhase { kAdvertiseKeys = 0, kShareKeys, kMaskedInput, kUnmasking };
inline constexpr int kAggregationPhases = 4;
const char* AggregationPhaseName(int phase_index);

// What the round produced when it committed.
struct RoundAggregate {
  std::vector<float> mean_update;  // weighted_sum / total_weight, model coordinates only
  double total_weight = 0;
  std::vector<uint32_t> survivors;
  // The cohort's held-out counts, split off the summed vector before the
  // server optimizer sees it; set when the plan evaluates.
  std::optional<FederatedEvaluation> evaluation;
};

// Turns a round's unmasked weighted sum (plan.vector_length coordinates) into
// the aggregate: the mean of the model coordinates and the decoded evaluation
// sums. Aborted when fewer than plan.min_survivors inputs are in the sum or
// their total weight is zero (the round must be abandoned). The secure round
// and the simulator's plain aggregation both end here.
absl::StatusOr<RoundAggregate> MakeRoundAggregate(const RoundPlan& plan,
                                                  const std::vector<double>& weighted_sum,
                                                  double total_weight,
                                                  std::vector<uint32_t> survivors);

class SecureRound {
 public:
  static absl::StatusOr<std::unique_ptr<SecureRound>> Create(const RoundPlan& plan);

  // The first message for every selected client (round parameters).
  absl::StatusOr<std::map<uint32_t, v1::SecAggServerToClient>> Start();

  // One client's message for the current phase; errors as SecAggServer's,
  // and a rejected message changes nothing.
  absl::Status Receive(uint32_t client_id, const v1::SecAggClientToServer& message);

  // Ends the current phase: clients that have not answered are dropped and
  // counted. Returns the next messages, or (after unmasking) the aggregate.
  // Aborted when too few clients survive: the round must be abandoned.
  struct Step {
    std::map<uint32_t, v1::SecAggServerToClient> messages;
    std::optional<RoundAggregate> aggregate;
  };
  absl::StatusOr<Step> EndPhase();

  // -1 before Start() and after the last phase.
  int phase_index() const { return phase_index_; }
  const std::array<int, kAggregationPhases>& dropouts_per_phase() const { return dropouts_; }
  std::vector<uint32_t> PendingClients() const { return server_->PendingClients(); }
  int64_t bytes_received() const { return bytes_received_; }
  int64_t bytes_sent() const { return bytes_sent_; }
  const RoundPlan& plan() const { return plan_; }

 private:
  SecureRound(RoundPlan plan, std::unique_ptr<secagg::SecAggServer> server)
      : plan_(std::move(plan)), server_(std::move(server)) {}
  int64_t CountSent(const std::map<uint32_t, v1::SecAggServerToClient>& messages);

  RoundPlan plan_;
  std::unique_ptr<secagg::SecAggServer> server_;
  int phase_index_ = -1;
  std::array<int, kAggregationPhases> dropouts_{};
  int64_t bytes_received_ = 0;
  int64_t bytes_sent_ = 0;
};

}  // namespace tacit::coordinator
