#include "coordinator/service/service_metrics.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace tacit::coordinator {
namespace {

bool Has(const MetricsRegistry& registry, const std::string& line) {
  return registry.Render().find(line) != std::string::npos;
}

// Issue 19: counters that never moved were missing from /metrics, so a
// dashboard or an alert on them saw no series. Every family registered must
// render at least one sample from the start (tacit_dp_epsilon, labelled
// with the task's dp.sampling, is set when the task opens: a
// RoundOrchestrator test checks it is there from the start).
TEST(ServiceMetrics, EveryFamilyIsExportedBeforeAnythingHappens) {
  MetricsRegistry registry;
  ASSERT_TRUE(ServiceMetrics::Register(registry).ok());
  const std::string text = registry.Render();
  std::vector<std::string> families;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) families.push_back(line.substr(7, line.find(' ', 7) - 7));
  }
  ASSERT_GE(families.size(), 13u) << text;
  for (const std::string& family : families) {
    bool sampled = false;
    std::istringstream again(text);
    for (std::string line; std::getline(again, line);) {
      if (line.rfind(family, 0) == 0 && line.size() > family.size() &&
          (line[family.size()] == ' ' || line[family.size()] == '{' ||
           line[family.size()] == '_')) {
        sampled = true;
      }
    }
    EXPECT_TRUE(sampled) << family << " has no sample:\n" << text;
  }
  EXPECT_TRUE(Has(registry, "tacit_rounds_total{outcome=\"abandoned\"} 0"));
  EXPECT_TRUE(Has(registry, "tacit_rounds_total{outcome=\"committed\"} 0"));
  EXPECT_TRUE(Has(registry, "tacit_secagg_bytes_total{direction=\"up\"} 0"));
  EXPECT_TRUE(Has(registry, "tacit_check_ins_total{result=\"assigned\"} 0"));
  EXPECT_TRUE(Has(registry, "tacit_phase_seconds_count{phase=\"unmasking\"} 0"));
}

// packaging/grafana's dashboard queries only metrics the coordinator
// exports: every tacit_* name in a panel's expr is a family (or a
// histogram's _bucket/_count/_sum series) of the registry /metrics renders.
// The label sets shown at zero drifted from the ones the service counts
// ("wrong_task" check-ins were missing): every literal label passed to a
// Refusal, a check-in retry or CheckIn in coordinator/service must be in
// /metrics before anything happens.
TEST(ServiceMetrics, EveryLabelTheServiceCountsIsShownAtZero) {
  MetricsRegistry registry;
  ASSERT_TRUE(ServiceMetrics::Register(registry).ok());
  const std::string text = registry.Render();
  const std::string dir = std::string(TACIT_SOURCE_DIR) + "/coordinator/service/";
  struct Use {
    std::string pattern, family, label;
  };
  const std::vector<Use> uses = {
      {R"re(Refusal\(\s*"([a-z_]+)")re", "tacit_rejected_messages_total", "reason"},
      {R"re(retry\([^;]*?"([a-z_]+)"\);)re", "tacit_check_ins_total", "result"},
      {R"re(CheckIn\("([a-z_]+)"\))re", "tacit_check_ins_total", "result"}};
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".cc") continue;
    std::ifstream in(entry.path());
    const std::string source((std::istreambuf_iterator<char>(in)), {});
    for (const Use& use : uses) {
      const std::regex re(use.pattern);
      for (std::sregex_iterator m(source.begin(), source.end(), re), end; m != end; ++m) {
        ++found;
        const std::string series = use.family + "{" + use.label + "=\"" + (*m)[1].str() + "\"}";
        EXPECT_NE(text.find(series), std::string::npos)
            << series << " (used in " << entry.path().filename() << ") is not shown at zero";
      }
    }
  }
  EXPECT_GE(found, 15) << "the patterns no longer match the service's code";
}

TEST(ServiceMetrics, TheGrafanaDashboardQueriesOnlyExportedMetrics) {
  MetricsRegistry registry;
  auto metrics = ServiceMetrics::Register(registry);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  metrics->Epsilon(0, "none");  // set when the task opens
  std::set<std::string> exported;
  std::istringstream lines(registry.Render());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    std::string name, type;
    words >> name >> type;
    exported.insert(name);
    if (type == "histogram") {
      for (const char* suffix : {"_bucket", "_count", "_sum"}) exported.insert(name + suffix);
    }
  }
  std::ifstream file(std::string(TACIT_SOURCE_DIR) + "/packaging/grafana/tacit-coordinator.json");
  ASSERT_TRUE(file.good());
  const nlohmann::json dashboard = nlohmann::json::parse(file, nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded());
  std::vector<std::string> exprs;
  std::function<void(const nlohmann::json&)> collect = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "expr" && it->is_string()) exprs.push_back(it->get<std::string>());
        collect(*it);
      }
    } else if (j.is_array()) {
      for (const nlohmann::json& e : j) collect(e);
    }
  };
  collect(dashboard);
  ASSERT_GE(exprs.size(), 10u);
  const std::regex name("tacit_[a-z0-9_]+");
  std::set<std::string> queried;
  for (const std::string& expr : exprs) {
    for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it) {
      queried.insert(it->str());
      EXPECT_EQ(exported.count(it->str()), 1u) << it->str() << " in " << expr;
    }
  }
  // And every family an operator would watch has a panel.
  for (const char* family :
       {"tacit_rounds_total", "tacit_check_ins_total", "tacit_rejected_messages_total",
        "tacit_phase_seconds_bucket", "tacit_model_version", "tacit_dp_epsilon",
        "tacit_round_number", "tacit_round_seats", "tacit_secagg_bytes_total",
        "tacit_eval_accuracy", "tacit_eval_loss"}) {
    EXPECT_EQ(queried.count(family), 1u) << family << " has no panel";
  }
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
