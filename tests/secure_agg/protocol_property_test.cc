// Whole rounds over random cohorts (3..200 clients), vector lengths, bit widths,
// weights, thresholds and dropout sets in every phase, with the complete graph
// and SecAgg+: the unmasked sum must equal the plaintext sum of the quantized
// inputs of exactly the clients whose masked input arrived, and a round must
// fail (Aborted) exactly when the protocol's rules say it cannot complete.

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <random>

#include "gtest/gtest.h"
#include "round_model.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/in_process_delivery.h"
#include "secure_agg/round_driver.h"

namespace tacit::secagg {
namespace {

struct TrialShape {
  uint32_t n;
  uint32_t k;  // 0 = complete
  uint64_t length;
};

void RunTrial(const TrialShape& shape, std::mt19937& rng, int* successes, int* failures) {
  std::vector<uint32_t> cohort;
  std::set<uint32_t> used;
  while (cohort.size() < shape.n) {
    uint32_t id = rng() % 100000;
    if (used.insert(id).second) cohort.push_back(id);
  }
  const uint32_t holders = shape.k == 0 || shape.k + 1 >= shape.n ? shape.n : shape.k + 1;
  ServerConfig cfg;
  cfg.round_id = rng();
  cfg.cohort_ids = cohort;
  cfg.neighbors = holders == shape.n ? 0 : shape.k;
  cfg.threshold = std::max<uint32_t>(2, holders / 3 + rng() % std::max<uint32_t>(1, holders / 3));
  cfg.bits = 16 + rng() % 47;
  cfg.clip_bound = 0.5 + (rng() % 40) / 10.0;
  cfg.max_weight = 1 + rng() % 50;
  cfg.vector_length = shape.length;
  auto scale = LargestSafeScale(cfg.bits, cfg.clip_bound, cfg.max_weight, shape.n);
  if (!scale.ok()) {
    cfg.bits = 62;
    scale = LargestSafeScale(cfg.bits, cfg.clip_bound, cfg.max_weight, shape.n);
  }
  ASSERT_TRUE(scale.ok()) << scale.status();
  cfg.scale = *scale;
  cfg.unmask_threads = 1 + rng() % 3;
  auto driver = RoundDriver::Create(cfg);
  ASSERT_TRUE(driver.ok()) << driver.status();
  SecAggServer& server = (*driver)->server();
  EXPECT_GE(server.no_wrap_report().headroom_bits, 0);

  testing::Neighbors nb;
  for (uint32_t id : cohort) {
    auto list = server.NeighborsOf(id);
    nb[id] = std::set<uint32_t>(list.begin(), list.end());
  }
  // Dropouts: each phase loses up to ~10% of the cohort, sometimes nobody.
  DropoutPlan plan;
  for (int p = 0; p < kPhaseCount; ++p) {
    const double rate = (rng() % 3 == 0) ? 0.0 : (rng() % 100) / 1000.0;
    for (uint32_t id : cohort) {
      if ((rng() % 10000) / 10000.0 < rate) plan.dropped_before[p].insert(id);
    }
  }
  // Occasionally a heavy dropout that must fail the round.
  if (rng() % 8 == 0) {
    for (uint32_t id : cohort) {
      if (rng() % 2) plan.dropped_before[rng() % kPhaseCount].insert(id);
    }
  }

  std::map<uint32_t, std::vector<int64_t>> quantized;
  std::map<uint32_t, std::pair<std::vector<float>, double>> inputs;
  std::mutex mu;
  for (uint32_t id : cohort) {
    std::vector<float> x(cfg.vector_length);
    std::uniform_real_distribution<float> dist(-2 * cfg.clip_bound, 2 * cfg.clip_bound);
    for (auto& v : x) v = dist(rng);
    inputs[id] = {x, (rng() % 1000) / 1000.0 * cfg.max_weight * 1.2};
  }
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
  for (uint32_t id : cohort) {
    ClientConfig cc;
    cc.client_id = id;
    cc.min_threshold_fraction = 0;  // explore low thresholds too
    cc.on_quantized_input = [&, id](const std::vector<int64_t>& q) {
      std::lock_guard<std::mutex> lock(mu);
      quantized[id] = q;
    };
    auto client = SecAggClient::Create(cc, inputs[id].first, inputs[id].second);
    ASSERT_TRUE(client.ok()) << client.status();
    clients[id] = *std::move(client);
  }
  InProcessDelivery::Options options;
  options.dropouts = plan;
  options.workers = 1 + rng() % 3;
  InProcessDelivery delivery(std::move(clients), options);
  auto result = RunRound(**driver, delivery);
  const auto model = testing::ModelRound(cohort, nb, cfg.threshold, plan);
  SCOPED_TRACE(::testing::Message()
               << "n=" << shape.n << " k=" << cfg.neighbors << " t=" << cfg.threshold
               << " bits=" << cfg.bits << " length=" << cfg.vector_length);
  ASSERT_EQ(result.ok(), model.succeeds) << result.status();
  if (!result.ok()) {
    EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
    EXPECT_EQ(server.phase(), ServerPhase::kFailed);
    EXPECT_FALSE((*driver)->open_phase().has_value());
    ++*failures;
    return;
  }
  ++*successes;
  // The driver's records agree with the model: everyone messaged either
  // answered or was counted as dropped, and the masked inputs that arrived
  // are exactly the survivors.
  const std::array<PhaseRecord, kPhaseCount> records = (*driver)->phases();
  EXPECT_EQ(records[0].expected, static_cast<int>(shape.n));
  for (const PhaseRecord& r : records) EXPECT_EQ(r.expected - r.answered, r.dropped);
  EXPECT_EQ(records[PhaseIndex(Phase::kMaskedInput)].answered,
            static_cast<int>(model.survivors.size()));
  EXPECT_GT((*driver)->bytes_received(), 0);
  EXPECT_EQ(std::set<uint32_t>(result->survivor_ids.begin(), result->survivor_ids.end()),
            model.survivors);
  std::vector<int64_t> expected(cfg.vector_length + 1, 0);
  double expected_weight = 0;
  std::vector<double> expected_weighted(cfg.vector_length, 0);
  for (uint32_t id : model.survivors) {
    ASSERT_EQ(quantized[id].size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) expected[i] += quantized[id][i];
    const double w = std::min(inputs[id].second, cfg.max_weight);
    expected_weight += w;
    for (size_t i = 0; i < cfg.vector_length; ++i) {
      expected_weighted[i] +=
          w * std::clamp<double>(inputs[id].first[i], -cfg.clip_bound, cfg.clip_bound);
    }
  }
  ASSERT_EQ(result->quantized_sum, expected);  // exact
  // De-quantized: within one quantization step per client.
  const double tolerance = (model.survivors.size() + 1) / cfg.scale;
  EXPECT_NEAR(result->total_weight, expected_weight, tolerance + 1e-12 * std::abs(expected_weight));
  for (size_t i = 0; i < cfg.vector_length; ++i) {
    ASSERT_NEAR(result->weighted_sum[i], expected_weighted[i],
                tolerance + 1e-12 * std::abs(expected_weighted[i]))
        << i;
  }
}

TEST(ProtocolProperty, RandomCohortsDropoutsAndGraphs) {
  std::mt19937 rng(20261125);
  int successes = 0;
  int failures = 0;
  // Many small rounds (complete graph and SecAgg+), a few large ones.
  for (int trial = 0; trial < 40; ++trial) {
    const uint32_t n = 3 + rng() % 38;
    const uint32_t k = (trial % 2 == 0 || n < 8) ? 0 : 2 * (2 + rng() % ((n - 4) / 2));
    RunTrial({n, k, 1 + rng() % 3000}, rng, &successes, &failures);
    if (::testing::Test::HasFatalFailure()) return;
  }
  RunTrial({120, 0, 257}, rng, &successes, &failures);
  RunTrial({200, 16, 5000}, rng, &successes, &failures);
  RunTrial({200, 30, 100}, rng, &successes, &failures);
  RunTrial({200, 0, 64}, rng, &successes, &failures);
  EXPECT_GT(successes, 25);
  EXPECT_GT(failures, 0);  // the heavy-dropout cases must have exercised failure
}

}  // namespace
}  // namespace tacit::secagg
