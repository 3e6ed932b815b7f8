#include "coordinator/service/status_view.h"

#include <gtest/gtest.h>

#include "coordinator/status_text.h"

namespace tacit::coordinator {
namespace {

CoordinatorStatus Base() {
  CoordinatorStatus s;
  s.task = "t";
  s.rounds = 5;
  s.model_version = 2;
  s.epsilon = 1.5;
  s.server_optimizer = "fedavg";
  s.server_lr = 0.5;
  return s;
}

TEST(StatusView, RendersTheOpenRoundAndEmptyHistoryAsBefore) {
  CoordinatorStatus s = Base();
  s.open_round = OpenRoundStatus{3, 17, 2, "share_keys", 5, 1};
  nlohmann::json j = StatusJson(s);
  EXPECT_EQ(j["task"], "t");
  EXPECT_EQ(j["rounds"], 5);
  EXPECT_EQ(j["model_version"], 2);
  EXPECT_EQ(j["epsilon"], 1.5);
  EXPECT_EQ(j["server_optimizer"], "fedavg");
  EXPECT_EQ(j["server_lr"], 0.5);
  EXPECT_EQ(j["done"], false);
  EXPECT_EQ(j["round"], 3);
  EXPECT_EQ(j["round_id"], 17);
  EXPECT_EQ(j["attempt"], 2);
  EXPECT_EQ(j["phase"], "share_keys");
  EXPECT_EQ(j["participants"], 5);
  EXPECT_EQ(j["dropped"], 1);
  EXPECT_EQ(j["last_round"], nlohmann::json::object());
  EXPECT_TRUE(j["last_evaluation"].is_null());
  EXPECT_NE(FormatStatusText(j).find("share_keys"), std::string::npos);
}

// The coordinator says which accounting its epsilon used: q = 1 unless the
// task's laptops check in at random, whatever the population.
TEST(StatusView, SaysWhichAccountingTheEpsilonUsed) {
  CoordinatorStatus s = Base();
  s.dp.noise_multiplier = 1.2;
  s.dp.delta = 1e-6;
  nlohmann::json a = StatusJson(s)["accounting"];
  EXPECT_EQ(a["accountant"], "rdp");
  EXPECT_EQ(a["sampling"], "none");
  EXPECT_EQ(a["q"], 1.0);
  EXPECT_EQ(a["delta"], 1e-6);
  EXPECT_EQ(a["mechanism"], "discrete_gaussian");
  EXPECT_EQ(a["subsampling_bound"], "general");
  EXPECT_NE(a["why"].get<std::string>().find("whoever checks in first"), std::string::npos);
  s.dp.sampling = DpSampling::kRandomCheckIn;
  s.dp.check_in_probability = 0.03;
  a = StatusJson(s)["accounting"];
  EXPECT_EQ(a["sampling"], "random_check_in");
  EXPECT_EQ(a["q"], 0.03);
  const std::string text = FormatStatusText(StatusJson(s));
  EXPECT_NE(text.find("accounting:    rdp at delta 1e-06, discrete_gaussian, q 0.03 per round "
                      "(sampling random_check_in"),
            std::string::npos)
      << text;
  s.dp.mechanism = DpMechanism::kContinuousGaussian;
  a = StatusJson(s)["accounting"];
  EXPECT_EQ(a["mechanism"], "continuous_gaussian");
  EXPECT_EQ(a["subsampling_bound"], "sampled_gaussian");
}

TEST(StatusView, RendersIdleDoneAndTheLastRound) {
  CoordinatorStatus s = Base();
  EXPECT_EQ(StatusJson(s)["phase"], "idle");
  EXPECT_FALSE(StatusJson(s).contains("round"));
  s.done = true;
  EXPECT_EQ(StatusJson(s)["phase"], "done");

  RoundSummary abandoned;
  abandoned.round_number = 4;
  abandoned.reason = "too few survivors";
  abandoned.cohort_size = 6;
  abandoned.dropouts_per_phase = std::array<int, secagg::kPhaseCount>{3, 0, 0, 0, 0};
  s.last_round = abandoned;
  nlohmann::json last = StatusJson(s)["last_round"];
  EXPECT_EQ(last["outcome"], "abandoned");
  EXPECT_EQ(last["reason"], "too few survivors");
  EXPECT_EQ(last["round"], 4);
  EXPECT_EQ(last["cohort_size"], 6);
  EXPECT_EQ(last["dropouts_per_phase"][0], 3);
  EXPECT_TRUE(last.contains("bytes_up"));

  RoundSummary committed;
  committed.outcome = AttemptOutcome::kCommitted;
  committed.round_number = 5;
  committed.survivors = 4;
  EvaluationReport report;
  report.model_version = 4;
  report.evaluation.sums.predictions = 10;
  report.evaluation.top1 = 0.3;
  committed.evaluation = report;
  s.last_round = committed;
  s.last_evaluation = report;
  nlohmann::json j = StatusJson(s);
  EXPECT_EQ(j["last_round"]["outcome"], "committed");
  EXPECT_FALSE(j["last_round"].contains("reason"));
  EXPECT_FALSE(j["last_round"].contains("dropouts_per_phase"));  // never started
  EXPECT_EQ(j["last_round"]["evaluation"], j["last_evaluation"]);
  EXPECT_EQ(j["last_evaluation"]["predictions"], 10);
  EXPECT_EQ(j["last_evaluation"]["model_version"], 4);
}

TEST(RoundSummary, EvaluationReportsRoundTripAndMalformedOnesAreNamed) {
  EvaluationReport report;
  report.model_version = 9;
  report.evaluation.sums = {3, 100, 40, 60, 250.5};
  report.evaluation.top1 = 0.4;
  report.evaluation.top3 = 0.6;
  report.evaluation.loss = 2.505;
  report.evaluation.count_error_bound = 0.01;
  nlohmann::json json = EvaluationReportJson(report);
  auto back = EvaluationReportFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EvaluationReportJson(*back), json);
  json.erase("top3");
  auto missing = EvaluationReportFromJson(json);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("'top3'"), std::string::npos);
  json["top3"] = "high";
  EXPECT_FALSE(EvaluationReportFromJson(json).ok());
  EXPECT_FALSE(EvaluationReportFromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace tacit::coordinator
