// The one round driver and its in-memory delivery: records per phase, the
// event-driven entry points' preconditions, and dropouts counted where they
// happen, over random cohorts and dropout plans.

#include "secure_agg/round_driver.h"
#include "secure_agg/parameters.h"

#include <map>
#include <memory>
#include <random>

#include "gtest/gtest.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/in_process_delivery.h"

namespace tacit::secagg {
namespace {

ServerConfig SmallConfig(uint32_t n, uint64_t length) {
  ServerConfig config;
  config.round_id = 9;
  for (uint32_t id = 1; id <= n; ++id) config.cohort_ids.push_back(id);
  config.threshold = ActiveSecureThreshold(n);  // what default clients accept
  config.bits = 40;
  config.vector_length = length;
  config.scale = *LargestSafeScale(config.bits, config.clip_bound, config.max_weight, n);
  return config;
}

std::map<uint32_t, std::unique_ptr<SecAggClient>> MakeClients(const ServerConfig& config) {
  std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
  for (uint32_t id : config.cohort_ids) {
    ClientConfig client;
    client.client_id = id;
    std::vector<float> input(config.vector_length, 0.25f * static_cast<float>(id % 3));
    clients[id] = *SecAggClient::Create(client, std::move(input), 1.0);
  }
  return clients;
}

TEST(RoundDriverTest, EntryPointsCheckTheirPhase) {
  auto driver = RoundDriver::Create(SmallConfig(4, 8));
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_FALSE((*driver)->open_phase().has_value());
  EXPECT_EQ((*driver)->EndPhase().status().code(), absl::StatusCode::kFailedPrecondition);
  auto messages = (*driver)->Start();
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->size(), 4u);
  EXPECT_EQ((*driver)->open_phase(), Phase::kAdvertiseKeys);
  EXPECT_EQ((*driver)->Start().status().code(), absl::StatusCode::kFailedPrecondition);
  // A reply from outside the cohort is refused and counts nowhere.
  v1::SecAggClientToServer stranger;
  stranger.mutable_advertise_keys();
  EXPECT_FALSE((*driver)->Receive(77, stranger).ok());
  EXPECT_EQ((*driver)->phases()[0].answered, 0);
  EXPECT_FALSE((*driver)->AllAnswered());
  // Nobody answers: the round fails after the first phase, naming it.
  auto ended = (*driver)->EndPhase();
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(ended.status().message().find("round 9 failed in advertise_keys"), std::string::npos)
      << ended.status();
  EXPECT_EQ((*driver)->dropouts_per_phase()[0], 4);
  EXPECT_FALSE((*driver)->open_phase().has_value());
}

TEST(RoundDriverTest, RecordsMatchWhatTheDeliveryCarriedForRandomDropouts) {
  std::mt19937 rng(31);  // cohort shapes and dropout draws only
  for (int trial = 0; trial < 12; ++trial) {
    const uint32_t n = 4 + rng() % 8;
    ServerConfig config = SmallConfig(n, 1 + rng() % 50);
    auto driver = RoundDriver::Create(config);
    ASSERT_TRUE(driver.ok()) << driver.status();
    InProcessDelivery::Options options;
    options.workers = 1 + static_cast<int>(rng() % 3);
    std::vector<Phase> seen;
    options.on_phase = [&seen](Phase phase) { seen.push_back(phase); };
    // At most one client vanishes per phase: with t = n/2 + 1 the round survives.
    int vanished = 0;
    for (int p = 0; p < kPhaseCount; ++p) {
      if (rng() % 2 && vanished + 1 < static_cast<int>(n) - static_cast<int>(config.threshold)) {
        options.dropouts.dropped_before[p].insert(1 + static_cast<uint32_t>(p));
        ++vanished;
      }
    }
    InProcessDelivery delivery(MakeClients(config), options);
    auto result = RunRound(**driver, delivery);
    ASSERT_TRUE(result.ok()) << "trial " << trial << ": " << result.status();
    EXPECT_EQ(seen.size(), static_cast<size_t>(kPhaseCount));
    const auto records = (*driver)->phases();
    int64_t down = 0, up = 0;
    int expected_next = static_cast<int>(n);
    for (int p = 0; p < kPhaseCount; ++p) {
      const PhaseRecord& r = records[p];
      const int dropped_here = static_cast<int>(options.dropouts.dropped_before[p].size());
      EXPECT_EQ(r.expected, expected_next) << "phase " << PhaseName(p);
      EXPECT_EQ(r.dropped, dropped_here) << "phase " << PhaseName(p);
      EXPECT_EQ(r.answered, r.expected - r.dropped);
      EXPECT_EQ(delivery.client_stats()[p].answered, static_cast<uint32_t>(r.answered));
      EXPECT_GE(r.bytes_down_total, r.bytes_down_max);
      EXPECT_GE(r.bytes_up_total, r.bytes_up_max);
      down += static_cast<int64_t>(r.bytes_down_total);
      up += static_cast<int64_t>(r.bytes_up_total);
      expected_next = r.answered;
    }
    EXPECT_EQ((*driver)->bytes_sent(), down);
    EXPECT_EQ((*driver)->bytes_received(), up);
    // Inputs of clients that vanished while unmasking are still in the sum.
    const size_t in_sum = n - options.dropouts.dropped_before[0].size() -
                          options.dropouts.dropped_before[1].size() -
                          options.dropouts.dropped_before[2].size();
    EXPECT_EQ(result->survivor_ids.size(), in_sum);
    EXPECT_FALSE((*driver)->open_phase().has_value());
    EXPECT_EQ((*driver)->EndPhase().status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

// A client that refuses a message is counted as refused and dropped, and
// never hears from the round again.
TEST(InProcessDeliveryTest, ARefusingClientDropsOut) {
  ServerConfig config = SmallConfig(5, 4);
  auto driver = RoundDriver::Create(config);
  ASSERT_TRUE(driver.ok());
  auto clients = MakeClients(config);
  // This client insists on a threshold above the round's: it refuses the key
  // broadcast, where it learns how many share holders it has.
  ClientConfig strict;
  strict.client_id = 3;
  strict.min_threshold_fraction = 0.99;
  clients[3] = *SecAggClient::Create(strict, std::vector<float>(4, 0.5f), 1.0);
  InProcessDelivery delivery(std::move(clients), {});
  auto result = RunRound(**driver, delivery);
  ASSERT_TRUE(result.ok()) << result.status();
  const int share_keys = PhaseIndex(Phase::kShareKeys);
  EXPECT_EQ(delivery.client_stats()[share_keys].refused, 1u);
  EXPECT_EQ((*driver)->dropouts_per_phase()[share_keys], 1);
  EXPECT_EQ((*driver)->phases()[PhaseIndex(Phase::kMaskedInput)].expected, 4);
  EXPECT_EQ(result->survivor_ids, (std::vector<uint32_t>{1, 2, 4, 5}));
}

}  // namespace
}  // namespace tacit::secagg
