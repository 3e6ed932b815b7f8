#include "task/task_config.h"

#include <string>

#include "common/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;

nlohmann::json Minimal() {
  return {{"name", "next-event"},
          {"model", {{"name", "gru"}, {"hyperparameters", {{"hidden", 128}, {"layers", 1}}}}},
          {"vocab", {{"salt", "fleet-salt"}}}};
}

std::string ErrorOf(const nlohmann::json& j) {
  absl::StatusOr<TaskConfig> c = ParseTaskConfig(j);
  EXPECT_FALSE(c.ok()) << j.dump();
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(TaskConfigTest, MinimalConfigGetsDocumentedDefaults) {
  absl::StatusOr<TaskConfig> c = ParseTaskConfig(Minimal());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "next-event");
  EXPECT_EQ(c->model.hyperparameters["hidden"], 128);
  EXPECT_EQ(c->vocab.size, 65536);
  EXPECT_EQ(c->rounds, 10);
  EXPECT_EQ(c->cohort.size, 100);
  EXPECT_EQ(c->cohort.min_survivors, 67);  // auto: ceil(2/3 * 100)
  EXPECT_EQ(c->SelectedPerRound(), 130);
  EXPECT_EQ(c->server_optimizer.type, ServerOptimizerType::kFedAvg);
  EXPECT_EQ(c->training.optimizer, "sgd");
  EXPECT_EQ(c->eligibility.allowed_hours_end, 24);
}

TEST(TaskConfigTest, FullConfigRoundTripsThroughJson) {
  nlohmann::json j = Minimal();
  j["rounds"] = 3;
  j["cohort"] = {{"size", 10}, {"over_selection", 1.5}, {"min_survivors", 6}};
  j["deadlines"] = {{"check_in", 5}, {"unmasking", 2.5}};
  j["secure_agg"] = {{"bits", 40}, {"clip_range", 0.5}, {"neighbors", 6}, {"threshold", 4}};
  j["dp"] = {{"clip_norm", 0.7}, {"noise_multiplier", 1.1}, {"delta", 1e-6}};
  j["server_optimizer"] = {
      {"type", "fedadam"}, {"lr", 0.01}, {"epsilon", 1e-4}, {"lr_half_life_rounds", 40}};
  j["training"] = {
      {"epochs", 2}, {"optimizer", "adam"}, {"fedprox_mu", 0.01}, {"window_stride", 32}};
  j["eligibility"] = {{"require_ac_power", false}, {"allowed_hours", {{"start", 22}, {"end", 6}}}};
  absl::StatusOr<TaskConfig> c = ParseTaskConfig(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->SelectedPerRound(), 15);
  EXPECT_EQ(c->server_optimizer.type, ServerOptimizerType::kFedAdam);
  EXPECT_DOUBLE_EQ(c->server_optimizer.lr_half_life_rounds, 40);
  EXPECT_DOUBLE_EQ(c->deadlines.unmasking, 2.5);
  EXPECT_EQ(c->training.window_stride, 32);
  EXPECT_EQ(c->eligibility.allowed_hours_start, 22);
  absl::StatusOr<TaskConfig> again = ParseTaskConfig(TaskConfigToJson(*c));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(TaskConfigToJson(*again), TaskConfigToJson(*c));
}

// Random check-ins (docs/federation.md): the choice, p in (0, 1], a window,
// and q = 1 unless laptops flip coins.
TEST(TaskConfigTest, DpSamplingChoosesTheAccountedRate) {
  absl::StatusOr<TaskConfig> plain = ParseTaskConfig(Minimal());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->dp.sampling, DpSampling::kNone);
  EXPECT_EQ(plain->dp.AccountedSamplingRate(), 1.0);
  nlohmann::json j = Minimal();
  j["dp"] = {{"sampling", "random_check_in"},
             {"check_in_probability", 0.05},
             {"check_in_window_seconds", 900}};
  absl::StatusOr<TaskConfig> random = ParseTaskConfig(j);
  ASSERT_TRUE(random.ok()) << random.status();
  EXPECT_EQ(random->dp.sampling, DpSampling::kRandomCheckIn);
  EXPECT_EQ(random->dp.AccountedSamplingRate(), 0.05);
  EXPECT_EQ(random->dp.check_in_window_seconds, 900);

  j["dp"] = {{"sampling", "poisson"}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'dp.sampling' = \"poisson\" is not one of"));
  j["dp"] = {{"sampling", "random_check_in"}, {"check_in_probability", 0}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'dp.check_in_probability' = 0"));
  j["dp"] = {{"sampling", "random_check_in"}, {"check_in_window_seconds", 0.5}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'dp.check_in_window_seconds' = 0.5"));
  // A probability without random check-ins would be a promise nobody keeps.
  j["dp"] = {{"check_in_probability", 0.1}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'dp.check_in_probability' = 0.1 has no effect"));
}

TEST(TaskConfigTest, ErrorsNameTheKey) {
  nlohmann::json j = Minimal();
  j["cohort"] = {{"sise", 10}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("unknown config key 'cohort.sise'"));

  j = Minimal();
  j["cohort"] = {{"size", "ten"}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'cohort.size': expected an integer, got string"));

  j = Minimal();
  j["cohort"] = {{"size", 1}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'cohort.size' = 1 is out of range"));

  j = Minimal();
  j["dp"] = {{"delta", 1.0}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'dp.delta' = 1.0 is out of range"));

  j = Minimal();
  j["server_optimizer"] = {{"lr_half_life_rounds", -5}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'server_optimizer.lr_half_life_rounds' = -5"));

  j = Minimal();
  j["server_optimizer"] = {{"type", "sgd"}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'server_optimizer.type' = \"sgd\" is not one of"));

  // Only optimizers the trainer has pass: a task that fails in every client's
  // first round must fail at load instead.
  j = Minimal();
  j["training"] = {{"optimizer", "adamw"}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'training.optimizer' = \"adamw\" is not one of"));

  j = Minimal();
  j["eligibility"] = {{"allowed_hours", {{"start", 5}, {"end", 5}}}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("eligibility.allowed_hours.start"));

  j = Minimal();
  j["eligibility"] = {{"allowed_hours", {{"begin", 5}}}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("unknown config key 'eligibility.allowed_hours.begin'"));

  j = Minimal();
  j["model"].erase("name");
  EXPECT_THAT(ErrorOf(j), HasSubstr("'model.name' is required"));

  j = Minimal();
  j["model"]["hyperparameters"] = 3;
  EXPECT_THAT(ErrorOf(j), HasSubstr("'model.hyperparameters': expected an object"));

  j = Minimal();
  j["training"] = {{"epochs", 1.5}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'training.epochs': expected an integer"));

  j = Minimal();
  j["training"] = {{"window_stride", -1}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'training.window_stride' = -1 is out of range"));

  j = Minimal();
  j["eligibility"] = {{"unmetered_only", 1}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'eligibility.unmetered_only': expected true or false"));

  j = Minimal();
  j["roundz"] = 3;
  EXPECT_THAT(ErrorOf(j), HasSubstr("unknown config key 'roundz'"));

  j = Minimal();
  j["vocab"]["size"] = 18446744073709551615ull;
  EXPECT_THAT(ErrorOf(j), HasSubstr("'vocab.size' = 18446744073709551615 is out of range"));

  j = Minimal();
  j["rounds"] = 3.0;  // integral floats are accepted
  EXPECT_TRUE(ParseTaskConfig(j).ok());

  EXPECT_THAT(ErrorOf(nlohmann::json::array()), HasSubstr("expected an object"));
}

TEST(TaskConfigTest, CrossKeyChecks) {
  nlohmann::json j = Minimal();
  j["cohort"] = {{"size", 10}, {"min_survivors", 11}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'cohort.min_survivors' = 11 is out of range"));

  j = Minimal();
  j["cohort"] = {{"size", 10}, {"min_survivors", 6}};
  j["secure_agg"] = {{"threshold", 7}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'secure_agg.threshold' = 7 is out of range"));

  j = Minimal();
  j["cohort"] = {{"size", 10}};
  j["secure_agg"] = {{"threshold", 5}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("more than half of cohort.size (10)"));

  j = Minimal();
  j["cohort"] = {{"size", 100}};
  j["secure_agg"] = {{"neighbors", 20}, {"threshold", 10}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("more than half of secure_agg.neighbors (20)"));
  j["secure_agg"] = {{"neighbors", 20}, {"threshold", 21}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'secure_agg.threshold' = 21 is out of range"));
  j["secure_agg"] = {{"neighbors", 20}, {"threshold", 11}};
  EXPECT_TRUE(ParseTaskConfig(j).ok());
  j["secure_agg"] = {{"neighbors", 1}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'secure_agg.neighbors' = 1 is out of range"));

  j = Minimal();
  j["cohort"] = {{"size", 5000}};
  j["secure_agg"] = {{"bits", 16}};
  EXPECT_THAT(ErrorOf(j), HasSubstr("'secure_agg.bits' = 16 is too small"));
}

TEST(TaskConfigTest, LoadsFileAndReportsSyntaxErrorsWithPath) {
  std::string dir = ::testing::TempDir();
  std::string good = dir + "/task_good.json";
  ASSERT_TRUE(WriteFileAtomically(good, Minimal().dump(2)).ok());
  absl::StatusOr<TaskConfig> c = LoadTaskConfigFile(good);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model.name, "gru");

  std::string bad = dir + "/task_bad.json";
  ASSERT_TRUE(WriteFileAtomically(bad, "{\"name\": \"x\",, }").ok());
  absl::StatusOr<TaskConfig> b = LoadTaskConfigFile(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("task_bad.json is not valid JSON"));

  std::string wrong = dir + "/task_wrong.json";
  nlohmann::json j = Minimal();
  j["rounds"] = -1;
  ASSERT_TRUE(WriteFileAtomically(wrong, j.dump()).ok());
  absl::StatusOr<TaskConfig> w = LoadTaskConfigFile(wrong);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("task_wrong.json: config key 'rounds' = -1"));

  EXPECT_FALSE(LoadTaskConfigFile(dir + "/missing.json").ok());
}

}  // namespace
}  // namespace tacit
