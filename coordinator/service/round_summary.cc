#include "coordinator/service/round_summary.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "secure_agg/phase.h"

namespace tacit::coordinator {
namespace {

template <typename T>
absl::Status Read(const nlohmann::json& json, const char* key, T* out) {
  auto it = json.find(key);
  const bool ok =
      it != json.end() && (std::is_integral_v<T> ? it->is_number_integer() : it->is_number());
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("stored evaluation has no numeric '", key, "' (", json.dump(), ")"));
  }
  *out = it->get<T>();
  return absl::OkStatus();
}

}  // namespace

nlohmann::json EvaluationReportJson(const EvaluationReport& report) {
  return FederatedEvaluationJson(report.evaluation, report.model_version);
}

absl::StatusOr<EvaluationReport> EvaluationReportFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("stored evaluation is not an object: ", json.dump()));
  }
  EvaluationReport r;
  FederatedEvaluation& e = r.evaluation;
  for (absl::Status s :
       {Read(json, "model_version", &r.model_version), Read(json, "clients", &e.sums.clients),
        Read(json, "predictions", &e.sums.predictions),
        Read(json, "top1_correct", &e.sums.top1_correct),
        Read(json, "top3_correct", &e.sums.top3_correct), Read(json, "loss_sum", &e.sums.loss_sum),
        Read(json, "top1", &e.top1), Read(json, "top3", &e.top3), Read(json, "loss", &e.loss),
        Read(json, "count_error_bound", &e.count_error_bound)}) {
    if (!s.ok()) return s;
  }
  return r;
}

const char* AttemptOutcomeName(AttemptOutcome outcome) {
  return outcome == AttemptOutcome::kCommitted ? "committed" : "abandoned";
}

nlohmann::json RoundMetricsJson(const RoundSummary& s) {
  nlohmann::json m;
  m["cohort_size"] = s.cohort_size;
  m["survivors"] = s.survivors;
  if (s.dropouts_per_phase) {
    m["dropouts_per_phase"] = *s.dropouts_per_phase;
    // The same by phase name, for people (`tacit-coordinator status`).
    nlohmann::json named = nlohmann::json::object();
    for (int phase = 0; phase < secagg::kPhaseCount; ++phase) {
      named[secagg::PhaseName(phase)] = (*s.dropouts_per_phase)[phase];
    }
    m["dropouts"] = std::move(named);
    m["bytes_up"] = s.bytes_up;
    m["bytes_down"] = s.bytes_down;
  }
  m["phase_seconds"] = s.phase_seconds;
  m["seconds"] = s.seconds;
  m["epsilon"] = s.epsilon;
  if (s.evaluation) m["evaluation"] = EvaluationReportJson(*s.evaluation);
  return m;
}

nlohmann::json LastRoundJson(const RoundSummary& s) {
  nlohmann::json m = RoundMetricsJson(s);
  m["round"] = s.round_number;
  m["outcome"] = AttemptOutcomeName(s.outcome);
  if (s.outcome == AttemptOutcome::kAbandoned) m["reason"] = s.reason;
  return m;
}

}  // namespace tacit::coordinator
