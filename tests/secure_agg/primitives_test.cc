// Property tests of the building blocks: field, Shamir, fixed point, graph,
// masking, parameter helper.

#include <algorithm>
#include <numeric>
#include <random>

#include "gtest/gtest.h"
#include "secure_agg/client.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/masking.h"
#include "secure_agg/neighbor_graph.h"
#include "secure_agg/parameters.h"
#include "secure_agg/protocol.h"
#include "secure_agg/shamir.h"

namespace tacit::secagg {
namespace {

TEST(Field, MulAndInverseAgreeWithDefinition) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    uint64_t a = rng() % kShamirPrime;
    uint64_t b = rng() % kShamirPrime;
    __extension__ typedef unsigned __int128 U128;
    EXPECT_EQ(FieldMul(a, b), static_cast<uint64_t>((U128{a} * b) % kShamirPrime));
    if (a != 0) {
      EXPECT_EQ(FieldMul(a, FieldInverse(a)), 1u);
    }
    EXPECT_EQ(FieldAdd(FieldSub(a, b), b), a);
  }
  EXPECT_EQ(FieldMul(kShamirPrime - 1, kShamirPrime - 1), 1u);
}

TEST(Shamir, AnyThresholdSubsetReconstructsFewerDoNot) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const uint32_t n = 2 + rng() % 40;
    const uint32_t t = 1 + rng() % n;
    std::vector<uint32_t> ids(n);
    for (auto& id : ids) id = rng();
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.size() < t) continue;
    auto secret = RandomSecretKey();
    ASSERT_TRUE(secret.ok());
    auto shares = ShamirSplit(*secret, t, ids);
    ASSERT_TRUE(shares.ok()) << shares.status();
    std::shuffle(shares->begin(), shares->end(), rng);
    auto back = ShamirReconstruct(absl::MakeConstSpan(*shares).subspan(0, t), t);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(ConstantTimeEquals(back->span(), secret->span()));
    if (t >= 2) {
      // t - 1 shares: either rejected as not a key, or a different key.
      auto wrong = ShamirReconstruct(absl::MakeConstSpan(*shares).subspan(0, t - 1), t - 1);
      EXPECT_TRUE(!wrong.ok() || !ConstantTimeEquals(wrong->span(), secret->span()));
      EXPECT_FALSE(ShamirReconstruct(absl::MakeConstSpan(*shares).subspan(0, t - 1), t).ok());
    }
  }
}

TEST(Shamir, RejectsBadInputs) {
  SecretKey secret;
  std::vector<uint32_t> dup = {1, 2, 2};
  EXPECT_FALSE(ShamirSplit(secret, 2, dup).ok());
  std::vector<uint32_t> ids = {1, 2, 3};
  EXPECT_FALSE(ShamirSplit(secret, 4, ids).ok());
  auto shares = ShamirSplit(secret, 2, ids);
  ASSERT_TRUE(shares.ok());
  std::vector<ShamirShare> same = {(*shares)[0], (*shares)[0]};
  EXPECT_FALSE(ShamirReconstruct(same, 2).ok());
}

TEST(FixedPoint, NoWrapCheckMatchesArithmetic) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    FixedPointParams p;
    p.bits = 8 + rng() % 55;
    p.clip_bound = 0.5 + (rng() % 100) / 10.0;
    p.max_weight = 1 + rng() % 100;
    const uint32_t n = 3 + rng() % 10000;
    p.scale = std::ldexp(1.0, static_cast<int>(rng() % 40));
    auto report = CheckNoWrap(p, n);
    const double worst = n * (std::ceil(p.max_weight * std::max(1.0, p.clip_bound) * p.scale) + 1);
    const double limit = std::ldexp(1.0, static_cast<int>(p.bits) - 1) - 1;
    EXPECT_EQ(report.ok(), worst <= limit) << p.bits << " " << n;
    if (report.ok()) {
      EXPECT_GE(report->headroom_bits, 0);
    }
  }
  auto scale = LargestSafeScale(32, 1.0, 1.0, 200);
  ASSERT_TRUE(scale.ok());
  EXPECT_TRUE(CheckNoWrap({32, 1.0, *scale, 1.0}, 200).ok());
  EXPECT_FALSE(CheckNoWrap({32, 1.0, *scale * 2, 1.0}, 200).ok());
  EXPECT_FALSE(CheckNoWrap({63, 1.0, 1.0, 1.0}, 3).ok());
}

TEST(FixedPoint, ClipsAndRoundsStochasticallyWithoutBias) {
  FixedPointParams p{32, 1.0, 4.0, 10.0};
  std::vector<float> input(20000, 0.3f);  // 0.3 * 2 * 4 = 2.4 -> 2 or 3, mean 2.4
  input[0] = 5.0f;                        // clipped to 1 -> 8
  input[1] = -5.0f;                       // clipped to -1 -> -8
  auto q = QuantizeWeighted(p, input, 2.0);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)[0], 8);
  EXPECT_EQ((*q)[1], -8);
  EXPECT_EQ(q->back(), 8);  // weight 2 * scale 4
  double sum = 0;
  for (size_t i = 2; i < input.size(); ++i) {
    ASSERT_TRUE((*q)[i] == 2 || (*q)[i] == 3);
    sum += (*q)[i];
  }
  EXPECT_NEAR(sum / (input.size() - 2), 2.4, 0.02);
  EXPECT_FALSE(QuantizeWeighted(p, std::vector<float>{NAN}, 1.0).ok());
  // Weight above max_weight is clipped to it.
  auto heavy = QuantizeWeighted(p, std::vector<float>{0.0f}, 1e9);
  ASSERT_TRUE(heavy.ok());
  EXPECT_EQ(heavy->back(), 40);
}

TEST(FixedPoint, ModularRoundTrip) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t bits = 2 + rng() % 61;
    const int64_t half = int64_t{1} << (bits - 1);
    const int64_t v = static_cast<int64_t>(rng() % (2 * half)) - half;
    EXPECT_EQ(FromModular(ToModular(v, bits), bits), v);
  }
}

TEST(NeighborGraph, HararyGraphIsKRegularAndSymmetric) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 30; ++trial) {
    const uint32_t n = 5 + rng() % 300;
    const uint32_t k = 2 * (1 + rng() % ((n - 2) / 2));
    std::vector<uint32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 100);
    std::shuffle(ids.begin(), ids.end(), rng);
    auto seed = RandomSecretKey();
    auto graph = NeighborGraph::Create(ids, k, *seed);
    ASSERT_TRUE(graph.ok()) << graph.status();
    for (uint32_t id : ids) {
      auto nb = graph->NeighborsOf(id);
      EXPECT_EQ(nb.size(), graph->complete() ? n - 1 : k);
      for (uint32_t other : nb) {
        EXPECT_NE(other, id);
        EXPECT_TRUE(graph->AreNeighbors(id, other));
        auto back = graph->NeighborsOf(other);
        EXPECT_TRUE(std::binary_search(back.begin(), back.end(), id));
      }
    }
  }
  std::vector<uint32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_FALSE(NeighborGraph::Create(ids, 3, SecretKey()).ok());  // odd degree
  EXPECT_TRUE(NeighborGraph::Create(ids, 0, SecretKey())->complete());
}

TEST(Masking, ParallelSlicesEqualSequentialAndMasksCancel) {
  std::mt19937 rng(13);
  for (uint32_t bits : {16u, 32u, 33u, 62u}) {
    const size_t n = 1 + rng() % 50000;
    std::vector<MaskTerm> terms;
    for (int i = 0; i < 4; ++i) terms.push_back({*RandomSecretKey(), i % 2 ? -1 : 1});
    std::vector<uint64_t> a(n, 7), b(n, 7);
    ASSERT_TRUE(ApplyMasks(terms, bits, 0, absl::MakeSpan(a)).ok());
    ASSERT_TRUE(ApplyMasksParallel(terms, bits, absl::MakeSpan(b), 3).ok());
    EXPECT_EQ(a, b);
    for (auto& t : terms) t.sign = -t.sign;
    ASSERT_TRUE(ApplyMasksParallel(terms, bits, absl::MakeSpan(b), 0).ok());
    ReduceModulo(absl::MakeSpan(b), bits);
    EXPECT_EQ(b, std::vector<uint64_t>(n, 7));
  }
}

TEST(Masking, ThirtyTwoBitFormAgreesWithSixtyFourBitForm) {
  std::mt19937 rng(17);
  for (uint32_t bits : {8u, 20u, 32u}) {
    const size_t n = 1 + rng() % 20000;
    std::vector<MaskTerm> terms;
    for (int i = 0; i < 3; ++i) terms.push_back({*RandomSecretKey(), i == 1 ? -1 : 1});
    std::vector<uint64_t> wide(n, 3);
    std::vector<uint32_t> narrow(n, 3);
    ASSERT_TRUE(ApplyMasks(terms, bits, 0, absl::MakeSpan(wide)).ok());
    ASSERT_TRUE(ApplyMasks(terms, bits, 0, absl::MakeSpan(narrow)).ok());
    ReduceModulo(absl::MakeSpan(wide), bits);
    ReduceModulo(absl::MakeSpan(narrow), bits);
    EXPECT_EQ(std::vector<uint64_t>(narrow.begin(), narrow.end()), wide);
  }
  std::vector<uint32_t> v(4);
  EXPECT_FALSE(ApplyMasks({}, 33, 0, absl::MakeSpan(v)).ok());
}

TEST(Parameters, ChoicesMeetTheirOwnBounds) {
  for (uint32_t n : {3u, 10u, 64u, 100u, 500u, 1000u, 10000u}) {
    for (double dropout : {0.0, 0.05, 0.1, 0.3}) {
      for (double corrupt : {0.0, 0.05, 0.2}) {
        ParameterRequest r;
        r.cohort_size = n;
        r.dropout_rate = dropout;
        r.corruption_rate = corrupt;
        auto p = ChooseParameters(r);
        ASSERT_TRUE(p.ok()) << p.status();
        // Above two thirds of the holders: what default clients accept, and
        // what keeps a split view impossible (docs/secure_aggregation.md).
        EXPECT_GT(3 * p->threshold, 2 * p->holders) << n;
        EXPECT_GT(p->threshold, ClientConfig{}.min_threshold_fraction * p->holders) << n;
        // EvaluateParameters (check-config's figures) reports the same bounds.
        auto same = EvaluateParameters(r, p->threshold, p->neighbors);
        ASSERT_TRUE(same.ok()) << same.status();
        EXPECT_DOUBLE_EQ(same->log2_privacy_failure, p->log2_privacy_failure);
        EXPECT_DOUBLE_EQ(same->log2_correctness_failure, p->log2_correctness_failure);
        EXPECT_LE(p->threshold, p->holders);
        if (p->neighbors == 0) {
          EXPECT_EQ(p->holders, n);
          EXPECT_GT(p->threshold, static_cast<uint32_t>(corrupt * n));
          // A split view needs 2t - n corrupted holders: more than the bound.
          EXPECT_GT(2 * p->threshold - n, static_cast<uint32_t>(corrupt * n)) << n;
        } else {
          EXPECT_GT(n, r.complete_graph_up_to);
          EXPECT_EQ(p->neighbors % 2, 0u);
          EXPECT_LE(p->log2_privacy_failure, -r.security_bits);
          EXPECT_LE(p->log2_correctness_failure, -r.correctness_bits);
        }
      }
    }
  }
  ParameterRequest big{10000, 0.1, 0.1};
  auto p = ChooseParameters(big);
  ASSERT_TRUE(p.ok());
  EXPECT_GT(p->neighbors, 0u);
  EXPECT_LT(p->neighbors, 200u);  // sparse: far below the cohort
  EXPECT_FALSE(ChooseParameters({2, 0.1, 0.1}).ok());
}

TEST(Parameters, BinomialTailMatchesDirectSum) {
  // P[Bin(10, 0.5) >= 8] = (45 + 10 + 1) / 1024.
  EXPECT_NEAR(std::exp2(Log2BinomialUpperTail(10, 0.5, 8)), 56.0 / 1024, 1e-12);
  EXPECT_EQ(Log2BinomialUpperTail(10, 0.5, 0), 0);
}

}  // namespace
}  // namespace tacit::secagg
