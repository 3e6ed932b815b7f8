// A selected client's update with federated evaluation: the held-out counts
// are those of models' Evaluate on the newest held-out tokens, taken before
// training, and ride after the clipped delta without touching its norm.

#include "client/federated/local_update.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "client/federated/held_out_evaluation.h"
#include "models/evaluation.h"
#include "models/flat_vector.h"
#include "models/parameter_layout.h"

namespace tacit {
namespace {

ModelConfig TinyModel() {
  ModelConfig c;
  c.vocab_size = 40;
  c.embedding_dim = 6;
  c.hidden_dim = 8;
  c.window = 8;
  return c;
}

PersonTokens RandomPerson(std::mt19937_64& rng, size_t train, size_t test) {
  std::uniform_int_distribution<int32_t> token(1, 39);
  PersonTokens p;
  p.person_id = "p";
  for (size_t i = 0; i < train; ++i) p.train.push_back(token(rng));
  for (size_t i = 0; i < test; ++i) p.test.push_back(token(rng));
  return p;
}

LocalUpdateTask TaskFor(const ModelConfig& model, int64_t max_predictions) {
  LocalUpdateTask task;
  task.model = model;
  task.training.max_steps = 2;
  task.training.batch_size = 4;
  task.clip_norm = 0.05;
  task.weight_by_examples = true;
  task.max_weight = 50;
  task.evaluation = EvaluationEncoding{max_predictions, 0.5, task.max_weight};
  return task;
}

TEST(LocalUpdateEvaluation, CountsAreTheHeldOutEvaluationOfTheDownloadedModel) {
  std::mt19937_64 rng(31);
  const ModelConfig model = TinyModel();
  auto global = InitialParameters(model, 5);
  ASSERT_TRUE(global.ok());
  for (int trial = 0; trial < 4; ++trial) {
    const size_t test = std::uniform_int_distribution<size_t>(1, 60)(rng);
    const int64_t max_predictions = std::uniform_int_distribution<int64_t>(1, 80)(rng);
    PersonTokens person = RandomPerson(rng, 120, test);
    LocalUpdateTask task = TaskFor(model, max_predictions);
    auto update = PrepareLocalUpdate(task, *global, person, nullptr);
    ASSERT_TRUE(update.ok()) << update.status();
    ASSERT_EQ(update->update.size(), global->size() + kEvaluationCoordinates);

    // The newest min(test, max_predictions) held-out tokens, scored by the
    // untrained global model with everything before them as context.
    const size_t scored = std::min<size_t>(test, static_cast<size_t>(max_predictions));
    PersonTokens newest;
    newest.train = person.train;
    newest.train.insert(newest.train.end(), person.test.begin(), person.test.end() - scored);
    newest.test.assign(person.test.end() - scored, person.test.end());
    auto reference = Evaluate(model, *global, newest);
    ASSERT_TRUE(reference.ok());
    const EvaluationCounts& counts = update->evaluation;
    EXPECT_EQ(counts.clients, 1);
    EXPECT_EQ(counts.predictions, reference->predictions);
    EXPECT_EQ(counts.predictions, static_cast<int64_t>(scored));
    EXPECT_NEAR(static_cast<double>(counts.top1_correct) / counts.predictions, reference->top1,
                1e-9);
    EXPECT_NEAR(counts.loss_sum / counts.predictions, reference->loss, 1e-6);

    // The delta keeps its clip; the tail is exactly the encoded counts.
    std::vector<float> delta(update->update.begin(), update->update.end() - kEvaluationCoordinates);
    double norm = 0;
    for (float x : delta) norm += static_cast<double>(x) * x;
    EXPECT_LE(std::sqrt(norm), task.clip_norm * (1 + 1e-5));
    auto encoded = EncodeEvaluation(*task.evaluation, counts, update->weight);
    ASSERT_TRUE(encoded.ok());
    for (size_t i = 0; i < kEvaluationCoordinates; ++i) {
      EXPECT_EQ(update->update[global->size() + i], (*encoded)[i]) << i;
    }
  }
}

TEST(LocalUpdateEvaluation, NoHeldOutTokensOrEvaluationOffAddNothingToCount) {
  std::mt19937_64 rng(32);
  const ModelConfig model = TinyModel();
  auto global = InitialParameters(model, 6);
  ASSERT_TRUE(global.ok());
  PersonTokens person = RandomPerson(rng, 60, 0);
  LocalUpdateTask task = TaskFor(model, 10);
  auto update = PrepareLocalUpdate(task, *global, person, nullptr);
  ASSERT_TRUE(update.ok()) << update.status();
  ASSERT_EQ(update->update.size(), global->size() + kEvaluationCoordinates);
  for (size_t i = 0; i < kEvaluationCoordinates; ++i) {
    EXPECT_EQ(update->update[global->size() + i], 0.0f);
  }
  task.evaluation.reset();
  auto plain = PrepareLocalUpdate(task, *global, person.train, nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->update.size(), global->size());
}

}  // namespace
}  // namespace tacit
