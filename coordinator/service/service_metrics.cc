#include "coordinator/service/service_metrics.h"

#include "common/status_macros.h"
#include "secure_agg/phase.h"

namespace tacit::coordinator {

absl::StatusOr<ServiceMetrics> ServiceMetrics::Register(MetricsRegistry& registry) {
  ServiceMetrics m;
  TACIT_ASSIGN_OR_RETURN(m.rounds_, registry.AddCounter("tacit_rounds_total",
                                                        "Round attempts by outcome", {"outcome"}));
  TACIT_ASSIGN_OR_RETURN(m.check_ins_, registry.AddCounter("tacit_check_ins_total",
                                                           "Check-ins by result", {"result"}));
  TACIT_ASSIGN_OR_RETURN(m.rejected_,
                         registry.AddCounter("tacit_rejected_messages_total",
                                             "Client messages rejected, by reason", {"reason"}));
  TACIT_ASSIGN_OR_RETURN(
      m.phase_seconds_,
      registry.AddHistogram("tacit_phase_seconds", "Wall time of each round phase",
                            MetricsRegistry::LatencyBuckets(), {"phase"}));
  TACIT_ASSIGN_OR_RETURN(m.model_version_,
                         registry.AddGauge("tacit_model_version", "Global model version"));
  TACIT_ASSIGN_OR_RETURN(m.epsilon_,
                         registry.AddGauge("tacit_dp_epsilon",
                                           "Epsilon spent so far at the task's delta (0 without DP "
                                           "noise), by accountant and the task's dp.sampling",
                                           {"accountant", "sampling"}));
  TACIT_ASSIGN_OR_RETURN(m.round_number_,
                         registry.AddGauge("tacit_round_number", "Round being run"));
  TACIT_ASSIGN_OR_RETURN(
      m.seats_, registry.AddGauge("tacit_round_seats", "Devices seated in the open round"));
  TACIT_ASSIGN_OR_RETURN(m.bytes_, registry.AddCounter("tacit_secagg_bytes_total",
                                                       "Secure aggregation bytes", {"direction"}));
  TACIT_ASSIGN_OR_RETURN(
      m.eval_accuracy_,
      registry.AddGauge("tacit_eval_accuracy",
                        "Federated top-k next-event accuracy of the last evaluated model", {"k"}));
  TACIT_ASSIGN_OR_RETURN(
      m.eval_loss_,
      registry.AddGauge("tacit_eval_loss", "Federated mean held-out loss (nats) of that model"));
  TACIT_ASSIGN_OR_RETURN(
      m.eval_predictions_,
      registry.AddGauge("tacit_eval_predictions", "Held-out predictions behind that accuracy"));
  TACIT_ASSIGN_OR_RETURN(
      m.eval_clients_,
      registry.AddGauge("tacit_eval_clients", "Clients whose held-out counts are in that sum"));
  TACIT_ASSIGN_OR_RETURN(
      m.eval_model_version_,
      registry.AddGauge("tacit_eval_model_version", "Model version that evaluation scored"));
  m.ShowZeros();
  return m;
}

// A dashboard (and an alert on rate()) needs every series from the start:
// prometheus-cpp renders a family only once a label set exists, so a
// counter that never moved, or a gauge never set, would be missing.
void ServiceMetrics::ShowZeros() {
  for (const char* outcome : {"committed", "abandoned"}) rounds_->With({outcome});
  for (const char* result :
       {"assigned", "cohort_full", "running", "task_complete", "no_round", "wrong_task", "error"}) {
    check_ins_->With({result});
  }
  for (const char* reason :
       {"bad_offset", "bad_session", "bad_step", "dropped", "late", "no_model", "not_seated",
        "out_of_phase", "round_mismatch", "stale_download", "too_large", "unknown_round"}) {
    rejected_->With({reason});
  }
  phase_seconds_->With({"selection"});
  for (int phase = 0; phase < secagg::kPhaseCount; ++phase) {
    phase_seconds_->With({secagg::PhaseName(phase)});
  }
  for (const char* direction : {"up", "down"}) bytes_->With({direction});
  model_version_->With({});
  round_number_->With({});
  seats_->With({});
  for (const char* k : {"1", "3"}) eval_accuracy_->With({k});
  eval_loss_->With({});
  eval_predictions_->With({});
  eval_clients_->With({});
  eval_model_version_->With({});
}

void ServiceMetrics::CheckIn(const std::string& result) { check_ins_->With({result}).Increment(); }
void ServiceMetrics::Rejected(const std::string& reason) { rejected_->With({reason}).Increment(); }
void ServiceMetrics::StageEnded(const std::string& stage, double seconds) {
  phase_seconds_->With({stage}).Observe(seconds);
}
void ServiceMetrics::RoundOpened(int64_t round_number) {
  round_number_->With({}).Set(static_cast<double>(round_number));
  seats_->With({}).Set(0);
}
void ServiceMetrics::Seats(size_t seated) { seats_->With({}).Set(static_cast<double>(seated)); }
void ServiceMetrics::BytesUp(int64_t bytes) {
  bytes_->With({"up"}).Increment(static_cast<double>(bytes));
}
void ServiceMetrics::BytesDown(int64_t bytes) {
  bytes_->With({"down"}).Increment(static_cast<double>(bytes));
}
void ServiceMetrics::ModelVersion(int64_t version) {
  model_version_->With({}).Set(static_cast<double>(version));
}

void ServiceMetrics::Epsilon(double epsilon, const std::string& sampling) {
  epsilon_->With({"rdp", sampling}).Set(epsilon);
}

void ServiceMetrics::RoundEnded(const RoundSummary& summary) {
  rounds_->With({AttemptOutcomeName(summary.outcome)}).Increment();
  if (summary.evaluation) Evaluation(*summary.evaluation);
}

void ServiceMetrics::Evaluation(const EvaluationReport& report) {
  const FederatedEvaluation& e = report.evaluation;
  if (e.sums.predictions <= 0) return;
  eval_accuracy_->With({"1"}).Set(e.top1);
  eval_accuracy_->With({"3"}).Set(e.top3);
  eval_loss_->With({}).Set(e.loss);
  eval_predictions_->With({}).Set(static_cast<double>(e.sums.predictions));
  eval_clients_->With({}).Set(static_cast<double>(e.sums.clients));
  eval_model_version_->With({}).Set(static_cast<double>(report.model_version));
}

}  // namespace tacit::coordinator
