#include "models/prediction.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <set>

#include "common/token_stream.h"
#include "models/flat_vector.h"
#include "models/parameter_layout.h"
#include "models/training.h"
#include "tests/support/test_seed.h"

namespace tacit {
namespace {

ModelConfig TinyGru() {
  ModelConfig c;
  c.name = "gru";
  c.vocab_size = 16;
  c.embedding_dim = 16;
  c.hidden_dim = 32;
  c.layers = 1;
  c.window = 8;
  return c;
}

// A person who repeats a 5-command routine, with tokens in [1, 16).
constexpr int32_t kRoutine[] = {3, 7, 7, 2, 11};

std::vector<int32_t> Routine(size_t n, size_t offset = 0) {
  std::vector<int32_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = kRoutine[(offset + i) % 5];
  return out;
}

// `tacit-client predict` after a routine: a model trained on the routine
// names the routine's next command first, from any point of it and any
// context length (shorter than the window: left-padded).
TEST(PredictNext, ATrainedModelNamesTheRoutinesNextCommand) {
  const ModelConfig c = TinyGru();
  std::vector<float> params = *InitialParameters(c, 1);
  TrainOptions o;
  o.epochs = 30;
  o.batch_size = 8;
  o.lr = 0.01;
  o.seed = 5;
  auto update = TrainLocally(c, params, Routine(400), o);
  ASSERT_TRUE(update.ok()) << update.status();
  for (size_t i = 0; i < params.size(); ++i) params[i] += update->delta[i];

  const uint64_t seed = testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t offset = rng() % 5;
    const size_t length = 4 + rng() % 40;  // 4 .. 43 tokens of context
    const std::vector<int32_t> context = Routine(length, offset);
    const int32_t expected = kRoutine[(offset + length) % 5];
    const int k = 1 + static_cast<int>(rng() % 5);
    auto next = PredictNext(c, params, context, k);
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_EQ(next->size(), static_cast<size_t>(k));
    EXPECT_EQ((*next)[0].token, expected) << "after " << length << " tokens from " << offset;
    EXPECT_GT((*next)[0].probability, 0.5);
    for (size_t i = 1; i < next->size(); ++i) {
      EXPECT_LE((*next)[i].probability, (*next)[i - 1].probability);
    }
  }
}

// Every token but padding, once, as a distribution: asking for the whole
// vocabulary returns vocab_size - 1 distinct tokens whose probabilities sum
// to at most 1 (the rest is the padding token's).
TEST(PredictNext, TheWholeVocabularyIsADistributionWithoutPadding) {
  const ModelConfig c = TinyGru();
  const std::vector<float> params = *InitialParameters(c, 3);
  auto next = PredictNext(c, params, {1, 2, 3}, static_cast<int>(c.vocab_size));
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->size(), c.vocab_size - 1);
  std::set<int32_t> tokens;
  double total = 0;
  for (const TokenProbability& p : *next) {
    EXPECT_NE(p.token, 0);
    tokens.insert(p.token);
    total += p.probability;
  }
  EXPECT_EQ(tokens.size(), c.vocab_size - 1);
  EXPECT_LE(total, 1.0 + 1e-6);
  EXPECT_GT(total, 0.5);
}

TEST(PredictNext, RefusesBadInputNamingIt) {
  const ModelConfig c = TinyGru();
  const std::vector<float> params = *InitialParameters(c, 3);
  auto zero = PredictNext(c, params, {1, 2}, 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("k must be"), std::string::npos);
  auto outside = PredictNext(c, params, {1, 16}, 3);
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("token 16"), std::string::npos);
  auto short_params = PredictNext(c, std::vector<float>(10, 0.f), {1, 2}, 3);
  EXPECT_FALSE(short_params.ok());
  // An empty context is all padding: still a prediction.
  auto empty = PredictNext(c, params, {}, 3);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->size(), 3u);
}

}  // namespace
}  // namespace tacit
