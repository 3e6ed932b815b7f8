#include "task/federated_evaluation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

// The encoding alone (torch-free, no secure aggregation): what a client sends
// and what the coordinator decodes. tests/coordinator/federated_evaluation_test.cc
// drives it through real secure aggregation rounds.

namespace tacit {
namespace {

TEST(FederatedEvaluationEncoding, OneClientsCountsDecodeExactly) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    EvaluationEncoding encoding{std::uniform_int_distribution<int64_t>(1, 4096)(rng),
                                std::uniform_real_distribution<double>(0.1, 4)(rng), 1.0};
    EvaluationCounts counts;
    counts.clients = 1;
    counts.predictions = std::uniform_int_distribution<int64_t>(0, encoding.max_predictions)(rng);
    counts.top3_correct = std::uniform_int_distribution<int64_t>(0, counts.predictions)(rng);
    counts.top1_correct = std::uniform_int_distribution<int64_t>(0, counts.top3_correct)(rng);
    counts.loss_sum = std::uniform_real_distribution<double>(0, 10)(rng) * counts.predictions;
    auto encoded = EncodeEvaluation(encoding, counts, /*weight=*/1.0);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    for (float v : *encoded) {
      EXPECT_GE(v, 0.0f);
      EXPECT_LE(v, encoding.clip_range * (1 + 1e-6));
    }
    std::vector<double> sums(encoded->begin(), encoded->end());
    auto decoded = DecodeEvaluation(encoding, sums, /*scale=*/1 << 20, /*survivors=*/1);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->sums.clients, 1);
    EXPECT_EQ(decoded->sums.predictions, counts.predictions) << "trial " << trial;
    EXPECT_EQ(decoded->sums.top1_correct, counts.top1_correct) << "trial " << trial;
    EXPECT_EQ(decoded->sums.top3_correct, counts.top3_correct) << "trial " << trial;
  }
}

TEST(FederatedEvaluation, EncodingRefusesCountsOutsideTheirBounds) {
  EvaluationEncoding encoding{100, 0.5, 10};
  EvaluationCounts ok{1, 100, 40, 60, 250.0};
  EXPECT_TRUE(EncodeEvaluation(encoding, ok, 3).ok());
  EvaluationCounts too_many = ok;
  too_many.predictions = 101;
  EXPECT_EQ(EncodeEvaluation(encoding, too_many, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EvaluationCounts inverted = ok;
  inverted.top1_correct = 61;  // more top-1 than top-3 hits
  EXPECT_FALSE(EncodeEvaluation(encoding, inverted, 3).ok());
  EvaluationCounts bad_loss = ok;
  bad_loss.loss_sum = std::nan("");
  EXPECT_FALSE(EncodeEvaluation(encoding, bad_loss, 3).ok());
  EXPECT_FALSE(EncodeEvaluation(EvaluationEncoding{0, 0.5, 10}, ok, 3).ok());
  // A huge loss is capped at kMaxMeanLoss per prediction, never past the range.
  EvaluationCounts huge_loss = ok;
  huge_loss.loss_sum = 1e9;
  auto capped = EncodeEvaluation(encoding, huge_loss, 1);
  ASSERT_TRUE(capped.ok());
  EXPECT_LE((*capped)[4], 0.5f);
  auto decoded = DecodeEvaluation(encoding,
                                  {1 * (*capped)[0], 1.0 * (*capped)[1], 1.0 * (*capped)[2],
                                   1.0 * (*capped)[3], 1.0 * (*capped)[4]},
                                  1 << 20, 1);
  ASSERT_TRUE(decoded.ok());
  EXPECT_NEAR(decoded->loss, kMaxMeanLoss, 1e-3);
  EXPECT_EQ(decoded->sums.predictions, 100);
}

}  // namespace
}  // namespace tacit
