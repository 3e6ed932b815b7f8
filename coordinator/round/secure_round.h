#pragma once

// The coordinator's side of one round's secure aggregation, over any transport:
// the round's plan turned into the one round driver (secure_agg/round_driver.h,
// which keeps who dropped in which phase and the bytes each way), and the
// driver's unmasked sum turned into what a round commits, under the rule that
// a round commits only with at least min_survivors updates in the sum. The
// gRPC service calls Start/Receive/EndPhase as messages arrive and deadlines
// pass; the simulator's in-memory transport calls Run with a Delivery. Nothing
// here has a clock.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/round/round_plan.h"
#include "secure_agg/phase.h"
#include "secure_agg/round_driver.h"
#include "secure_agg/server.h"
#include "secure_agg/server_messages.h"
#include "task/federated_evaluation.h"

namespace tacit::coordinator {

// What the round produced when it committed.
struct RoundAggregate {
  std::vector<float> mean_update;  // weighted_sum / total_weight, model coordinates only
  double total_weight = 0;
  std::vector<uint32_t> survivors;
  // The cohort's held-out counts, split off the summed vector before the
  // server optimizer sees it; set when the plan evaluates.
  std::optional<FederatedEvaluation> evaluation;
};

// Turns a round's decoded weighted sum (model_length + evaluation coordinates) into
// the aggregate: the mean of the model coordinates and the decoded evaluation
// sums. Aborted when fewer than plan.min_survivors inputs are in the sum or
// their total weight is zero (the round must be abandoned). The secure round
// and the simulator's plain aggregation both end here.
absl::StatusOr<RoundAggregate> MakeRoundAggregate(const RoundPlan& plan,
                                                  const std::vector<double>& weighted_sum,
                                                  double total_weight,
                                                  std::vector<uint32_t> survivors);

// The unmasked sum as MakeRoundAggregate takes it: the model coordinates
// (decoded from the discrete Gaussian's integers when the plan uses it) then
// the evaluation sums, and the total weight. The secure round and the
// simulator's plain discrete-Gaussian sum both decode here. DataLoss when the
// discrete Gaussian sum is beyond the norm honest encodings can reach (a
// crafted vector: the round must be abandoned).
struct DecodedSum {
  std::vector<double> weighted_sum;  // plan.model_length + evaluation coordinates
  double total_weight = 0;
};
absl::StatusOr<DecodedSum> DecodeSum(const RoundPlan& plan,
                                     const secagg::AggregationResult& result);

class SecureRound {
 public:
  // `verifier` (secure_agg/identity.h): when set, a client whose advertised
  // keys are not signed by a trusted identity is dropped in advertise_keys, as
  // its verifying neighbours drop it, so every client's view of the cohort
  // stays the same and one bad signer cannot abort the round.
  static absl::StatusOr<std::unique_ptr<SecureRound>> Create(
      const RoundPlan& plan, std::shared_ptr<const secagg::IdentityVerifier> verifier = nullptr);

  // The first message for every selected client (round parameters).
  absl::StatusOr<secagg::ServerMessages> Start();

  // One client's message for the current phase; errors as SecAggServer's,
  // and a rejected message changes nothing.
  absl::Status Receive(uint32_t client_id, const v1::SecAggClientToServer& message);

  // Ends the current phase: clients that have not answered are dropped and
  // counted. Returns the next messages, or (after unmasking) the aggregate.
  // Aborted when too few clients survive: the round must be abandoned.
  struct Step {
    secagg::ServerMessages messages;
    std::optional<RoundAggregate> aggregate;
  };
  absl::StatusOr<Step> EndPhase();

  // The whole round through `delivery` (Start, then each phase delivered and
  // ended by the driver's RunRound); the aggregate, or Aborted as EndPhase.
  absl::StatusOr<RoundAggregate> Run(secagg::Delivery& delivery);

  // The phase whose replies are being taken; nullopt before Start() and
  // after the last phase.
  std::optional<secagg::Phase> open_phase() const { return driver_->open_phase(); }
  std::array<int, secagg::kPhaseCount> dropouts_per_phase() const {
    return driver_->dropouts_per_phase();
  }
  std::vector<uint32_t> PendingClients() const { return driver_->PendingClients(); }
  int64_t bytes_received() const { return driver_->bytes_received(); }
  int64_t bytes_sent() const { return driver_->bytes_sent(); }
  const RoundPlan& plan() const { return plan_; }
  const secagg::RoundDriver& driver() const { return *driver_; }

 private:
  SecureRound(RoundPlan plan, std::unique_ptr<secagg::RoundDriver> driver)
      : plan_(std::move(plan)), driver_(std::move(driver)) {}

  RoundPlan plan_;
  std::unique_ptr<secagg::RoundDriver> driver_;
};

}  // namespace tacit::coordinator
