#include "models/training.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "models/evaluation.h"
#include "models/flat_vector.h"
#include "models/parameter_layout.h"

namespace tacit {
namespace {

ModelConfig TinyConfig(const std::string& name) {
  ModelConfig c;
  c.name = name;
  c.vocab_size = 16;
  c.embedding_dim = 16;
  c.hidden_dim = 32;
  c.layers = 1;
  c.heads = 2;
  c.window = 8;
  return c;
}

// A person who repeats a 5-command routine, with tokens in [1, 16).
std::vector<int32_t> Routine(size_t n) {
  const int32_t cycle[] = {3, 7, 7, 2, 11};
  std::vector<int32_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = cycle[i % 5];
  return out;
}

TrainOptions FastOptions() {
  TrainOptions o;
  o.epochs = 1;
  o.batch_size = 8;
  o.lr = 0.01;
  o.seed = 5;
  return o;
}

class TrainingTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainingTest, TinyModelOverfitsATinySequence) {
  const ModelConfig c = TinyConfig(GetParam());
  const std::vector<float> initial = *InitialParameters(c, 1);
  auto person = SplitInTime("p", Routine(400), 0.8);
  ASSERT_TRUE(person.ok());
  auto before = Evaluate(c, initial, *person);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->predictions, 80);
  TrainOptions o = FastOptions();
  o.epochs = 30;
  auto update = TrainLocally(c, initial, person->train, o);
  ASSERT_TRUE(update.ok()) << update.status();
  std::vector<float> trained = initial;
  for (size_t i = 0; i < trained.size(); ++i) trained[i] += update->delta[i];
  auto after = Evaluate(c, trained, *person);
  ASSERT_TRUE(after.ok());
  EXPECT_LT(after->loss, before->loss * 0.2);
  EXPECT_LT(update->train_loss, 0.3);
  EXPECT_GE(after->top1, 0.95);
  EXPECT_GE(after->top3, after->top1);
  EXPECT_EQ(update->examples, 319);  // every train token after the first
}

TEST_P(TrainingTest, SameSeedSameUpdateOtherSeedOtherUpdate) {
  const ModelConfig c = TinyConfig(GetParam());
  const std::vector<float> initial = *InitialParameters(c, 2);
  std::mt19937_64 rng(9);
  std::vector<int32_t> tokens(300);
  for (auto& t : tokens) t = 1 + static_cast<int32_t>(rng() % 15);
  TrainOptions o = FastOptions();
  o.epochs = 2;
  auto a = TrainLocally(c, initial, tokens, o);
  auto b = TrainLocally(c, initial, tokens, o);
  o.seed += 1;
  auto other = TrainLocally(c, initial, tokens, o);
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  EXPECT_EQ(a->delta, b->delta);
  EXPECT_EQ(a->train_loss, b->train_loss);
  EXPECT_NE(a->delta, other->delta);
}

TEST_P(TrainingTest, ConcurrentCallsMatchSequentialOnes) {
  const ModelConfig c = TinyConfig(GetParam());
  const std::vector<float> initial = *InitialParameters(c, 3);
  constexpr int kClients = 4;
  std::vector<std::vector<int32_t>> data(kClients);
  std::mt19937_64 rng(4);
  for (auto& d : data) {
    d.resize(200);
    for (auto& t : d) t = 1 + static_cast<int32_t>(rng() % 15);
  }
  std::vector<std::vector<float>> sequential(kClients), parallel(kClients);
  for (int i = 0; i < kClients; ++i) {
    sequential[i] = TrainLocally(c, initial, data[i], FastOptions())->delta;
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto update = TrainLocally(c, initial, data[i], FastOptions());
      if (update.ok()) parallel[i] = update->delta;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(parallel[i], sequential[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(Models, TrainingTest, ::testing::Values("gru", "transformer"));

TEST(TrainingBudgetTest, MaxStepsAndWallClockStopEarly) {
  const ModelConfig c = TinyConfig("gru");
  const std::vector<float> initial = *InitialParameters(c, 1);
  TrainOptions o = FastOptions();
  o.epochs = 50;
  o.max_steps = 7;
  auto limited = TrainLocally(c, initial, Routine(500), o);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->steps, 7);
  o.max_steps = 0;
  o.wall_clock_budget_s = 1e-9;
  auto timed = TrainLocally(c, initial, Routine(500), o);
  ASSERT_TRUE(timed.ok());
  EXPECT_EQ(timed->steps, 1);
}

TEST(TrainingBudgetTest, FedProxPullsTowardTheGlobalModel) {
  const ModelConfig c = TinyConfig("gru");
  const std::vector<float> initial = *InitialParameters(c, 1);
  TrainOptions o = FastOptions();
  o.epochs = 5;
  o.optimizer = "sgd";
  o.lr = 0.1;
  auto free_update = TrainLocally(c, initial, Routine(300), o);
  o.fedprox_mu = 5.0;
  auto prox_update = TrainLocally(c, initial, Routine(300), o);
  ASSERT_TRUE(free_update.ok() && prox_update.ok());
  EXPECT_LT(L2Norm(prox_update->delta), 0.8 * L2Norm(free_update->delta));
}

TEST(TrainingBudgetTest, BadInputsAreRefused) {
  const ModelConfig c = TinyConfig("gru");
  const std::vector<float> initial = *InitialParameters(c, 1);
  EXPECT_FALSE(TrainLocally(c, initial, {5}, FastOptions()).ok());
  EXPECT_FALSE(TrainLocally(c, initial, {5, 16, 2}, FastOptions()).ok());
  EXPECT_FALSE(TrainLocally(c, std::vector<float>(10), Routine(50), FastOptions()).ok());
  TrainOptions o = FastOptions();
  o.optimizer = "rmsprop";
  EXPECT_FALSE(TrainLocally(c, initial, Routine(50), o).ok());
}

TEST(TrainingBudgetTest, OverlappingWindowsTakeMoreStepsAndStridesBeyondTheWindowAreRefused) {
  const ModelConfig c = TinyConfig("gru");
  const std::vector<float> initial = *InitialParameters(c, 1);
  TrainOptions o = FastOptions();
  o.batch_size = 1;
  auto disjoint = TrainLocally(c, initial, Routine(400), o);
  o.stride = c.window / 2;
  auto overlapping = TrainLocally(c, initial, Routine(400), o);
  ASSERT_TRUE(disjoint.ok() && overlapping.ok());
  // Half-window strides put about twice as many windows in an epoch.
  EXPECT_GE(overlapping->steps, 2 * disjoint->steps - 2);
  o.stride = c.window + 1;
  absl::StatusOr<LocalUpdate> refused = TrainLocally(c, initial, Routine(400), o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("exceeds the model window"), std::string::npos);
}

TEST(EvaluationTest, PooledWeighsPredictionsAndMacroWeighsPersons) {
  EvalResult a{1.0, 1.0, 1.0, 30};
  EvalResult b{3.0, 0.0, 0.5, 10};
  EvalResult empty{0.0, 0.0, 0.0, 0};
  PopulationEval p = CombineEvaluations({a, b, empty});
  EXPECT_DOUBLE_EQ(p.pooled.top1, 0.75);
  EXPECT_DOUBLE_EQ(p.pooled.loss, 1.5);
  EXPECT_EQ(p.pooled.predictions, 40);
  EXPECT_DOUBLE_EQ(p.macro.top1, 0.5);
  EXPECT_DOUBLE_EQ(p.macro.top3, 0.75);
  EXPECT_EQ(p.per_person.size(), 3u);
}

TEST(EvaluationTest, PersonalizationHelpsAPersonWithAnUnusualRoutine) {
  const ModelConfig c = TinyConfig("gru");
  std::vector<float> global = *InitialParameters(c, 1);
  // Global model: trained on the common routine.
  TrainOptions o = FastOptions();
  o.epochs = 20;
  auto common = TrainLocally(c, global, Routine(400), o);
  ASSERT_TRUE(common.ok());
  for (size_t i = 0; i < global.size(); ++i) global[i] += common->delta[i];
  // A person whose routine is the common one backwards.
  std::vector<int32_t> own = Routine(400);
  std::reverse(own.begin(), own.end());
  std::vector<PersonTokens> persons = {*SplitInTime("reverse", own, 0.8)};
  auto plain = EvaluatePopulation(c, global, persons);
  TrainOptions finetune = FastOptions();
  finetune.max_steps = 40;
  finetune.epochs = 100;
  auto personal = EvaluatePersonalized(c, global, persons, finetune);
  ASSERT_TRUE(plain.ok() && personal.ok());
  EXPECT_GT(personal->pooled.top1, plain->pooled.top1 + 0.2);
  EXPECT_EQ(personal->pooled.predictions, 80);
}

}  // namespace
}  // namespace tacit
