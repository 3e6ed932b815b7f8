#pragma once

// The coordinator service's Prometheus metrics, registered in one place and
// set from typed results (a round's summary, an evaluation report), never
// from JSON.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/metrics.h"
#include "coordinator/service/round_summary.h"

namespace tacit::coordinator {

class ServiceMetrics {
 public:
  // Registers every family; fails when one of the names is already taken.
  static absl::StatusOr<ServiceMetrics> Register(MetricsRegistry& registry);

  void CheckIn(const std::string& result);   // "assigned", "cohort_full", ...
  void Rejected(const std::string& reason);  // a refused client message
  // `stage`: "selection" or a secure aggregation phase name.
  void StageEnded(const std::string& stage, double seconds);
  void RoundOpened(int64_t round_number);  // the round gauge; no seats yet
  void Seats(size_t seated);
  void BytesUp(int64_t bytes);
  void BytesDown(int64_t bytes);
  void ModelVersion(int64_t version);
  // The reported epsilon (RDP accountant), labelled with the task's
  // dp.sampling so a dashboard shows which accounting it is.
  void Epsilon(double epsilon, const std::string& sampling);
  // Counts the attempt by outcome and shows its evaluation, if any.
  void RoundEnded(const RoundSummary& summary);
  // The eval gauges show `report` when predictions are behind it; a report
  // without predictions leaves the previous figures standing.
  void Evaluation(const EvaluationReport& report);

 private:
  ServiceMetrics() = default;
  void ShowZeros();  // every family with its known label sets at zero

  Family<Counter>* rounds_ = nullptr;     // by outcome
  Family<Counter>* check_ins_ = nullptr;  // by result
  Family<Counter>* rejected_ = nullptr;   // by reason
  Family<Histogram>* phase_seconds_ = nullptr;
  Family<Gauge>* model_version_ = nullptr;
  Family<Gauge>* epsilon_ = nullptr;  // by accountant, sampling
  Family<Gauge>* round_number_ = nullptr;
  Family<Gauge>* seats_ = nullptr;
  Family<Counter>* bytes_ = nullptr;  // by direction
  // Federated evaluation of the last committed round (the model its cohort
  // downloaded): cohort sums only, decoded from the secure sum.
  Family<Gauge>* eval_accuracy_ = nullptr;  // by k (1, 3)
  Family<Gauge>* eval_loss_ = nullptr;
  Family<Gauge>* eval_predictions_ = nullptr;
  Family<Gauge>* eval_clients_ = nullptr;
  Family<Gauge>* eval_model_version_ = nullptr;
};

}  // namespace tacit::coordinator
