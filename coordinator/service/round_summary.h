#pragma once

// What one finished round attempt amounted to, typed: the figures stored with
// a committed round (its metrics JSON), shown as /status's last_round and
// counted in the metrics. The JSON renderings keep the keys tools read
// (tacit-sim's gRPC transport, `tacit-coordinator status`).

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "secure_agg/phase.h"
#include "task/federated_evaluation.h"

namespace tacit::coordinator {

// A cohort's federated evaluation of the model version it downloaded.
struct EvaluationReport {
  int64_t model_version = 0;  // the version scored (the one before the round's)
  FederatedEvaluation evaluation;
};

nlohmann::json EvaluationReportJson(const EvaluationReport& report);
// The inverse, for a report stored with a committed round; InvalidArgument
// naming the first missing or mistyped key.
absl::StatusOr<EvaluationReport> EvaluationReportFromJson(const nlohmann::json& json);

enum class AttemptOutcome { kCommitted, kAbandoned };
const char* AttemptOutcomeName(AttemptOutcome outcome);  // "committed", "abandoned"

struct RoundSummary {
  int64_t round_number = 0;
  AttemptOutcome outcome = AttemptOutcome::kAbandoned;
  std::string reason;   // why it was abandoned; empty when committed
  int cohort_size = 0;  // devices seated
  int survivors = 0;    // inputs in the committed sum
  // Set once secure aggregation started (not for an attempt abandoned at
  // selection): who was dropped in each phase and the protocol's bytes.
  std::optional<std::array<int, secagg::kPhaseCount>> dropouts_per_phase;
  int64_t bytes_up = 0;
  int64_t bytes_down = 0;
  std::array<double, secagg::kPhaseCount> phase_seconds{};
  double seconds = 0;  // from the attempt's opening to its end
  double epsilon = 0;  // spent after the attempt (0 without DP noise)
  std::optional<EvaluationReport> evaluation;
};

// The round's figures as stored with a committed round (no round number or
// outcome: the round's row holds those).
nlohmann::json RoundMetricsJson(const RoundSummary& summary);
// /status's last_round: the figures plus round, outcome and (abandoned) reason.
nlohmann::json LastRoundJson(const RoundSummary& summary);

}  // namespace tacit::coordinator
