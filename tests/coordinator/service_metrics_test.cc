#include "coordinator/service/service_metrics.h"

#include <gtest/gtest.h>

namespace tacit::coordinator {
namespace {

bool Has(const MetricsRegistry& registry, const std::string& line) {
  return registry.Render().find(line) != std::string::npos;
}

TEST(ServiceMetrics, RegistersOnceAndSetsGaugesFromTypedResults) {
  MetricsRegistry registry;
  auto metrics = ServiceMetrics::Register(registry);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_FALSE(ServiceMetrics::Register(registry).ok());  // the names are taken

  metrics->RoundOpened(4);
  metrics->Seats(3);
  metrics->CheckIn("assigned");
  metrics->Rejected("late");
  metrics->BytesUp(10);
  metrics->BytesDown(20);
  metrics->ModelVersion(3);
  metrics->StageEnded("share_keys", 1.5);
  EXPECT_TRUE(Has(registry, "tacit_round_number 4"));
  EXPECT_TRUE(Has(registry, "tacit_round_seats 3"));
  EXPECT_TRUE(Has(registry, "tacit_check_ins_total{result=\"assigned\"} 1"));
  EXPECT_TRUE(Has(registry, "tacit_rejected_messages_total{reason=\"late\"} 1"));
  EXPECT_TRUE(Has(registry, "tacit_secagg_bytes_total{direction=\"up\"} 10"));
  EXPECT_TRUE(Has(registry, "tacit_secagg_bytes_total{direction=\"down\"} 20"));
  EXPECT_TRUE(Has(registry, "tacit_model_version 3"));
  EXPECT_TRUE(Has(registry, "tacit_phase_seconds_count{phase=\"share_keys\"} 1"));

  RoundSummary committed;
  committed.outcome = AttemptOutcome::kCommitted;
  EvaluationReport report;
  report.model_version = 2;
  report.evaluation.sums.predictions = 50;
  report.evaluation.sums.clients = 3;
  report.evaluation.top1 = 0.25;
  report.evaluation.top3 = 0.5;
  report.evaluation.loss = 2;
  committed.evaluation = report;
  metrics->RoundEnded(committed);
  EXPECT_TRUE(Has(registry, "tacit_rounds_total{outcome=\"committed\"} 1"));
  EXPECT_TRUE(Has(registry, "tacit_eval_accuracy{k=\"1\"} 0.25"));
  EXPECT_TRUE(Has(registry, "tacit_eval_predictions 50"));
  EXPECT_TRUE(Has(registry, "tacit_eval_model_version 2"));

  // An abandoned attempt, then an evaluation without predictions: the
  // previous figures stand.
  metrics->RoundEnded(RoundSummary{});
  EXPECT_TRUE(Has(registry, "tacit_rounds_total{outcome=\"abandoned\"} 1"));
  EvaluationReport empty;
  empty.model_version = 3;
  metrics->Evaluation(empty);
  EXPECT_TRUE(Has(registry, "tacit_eval_predictions 50"));
  EXPECT_TRUE(Has(registry, "tacit_eval_model_version 2"));
}

}  // namespace
}  // namespace tacit::coordinator
