// The laptop's honest accounting (issue 14): random check-in coins flipped
// once per window at the task's probability, the ledger's epsilon equal to
// the coordinator's for the same rounds, damaged ledger lines refused rather
// than skipped, the owner's budget never passed, and policy errors naming the
// key.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "client/runtime/check_in_jitter.h"
#include "client/runtime/participation_policy.h"
#include "client/runtime/privacy_budget.h"
#include "client/runtime/privacy_ledger.h"
#include "client/runtime/random_check_in.h"
#include "coordinator/round/global_model.h"
#include "gmock/gmock.h"
#include "tests/client/temp_dir.h"

namespace tacit::runtime {
namespace {

using tacit::testing::TempDir;
using ::testing::HasSubstr;

TaskConfig DpTask(const std::string& name, double z, const std::string& sampling, double p,
                  double window_seconds = 600, const std::string& mechanism = "discrete_gaussian") {
  nlohmann::json dp = {{"noise_multiplier", z},
                       {"clip_norm", 1.0},
                       {"sampling", sampling},
                       {"mechanism", mechanism}};
  if (sampling == "random_check_in") {
    dp["check_in_probability"] = p;
    dp["check_in_window_seconds"] = window_seconds;
  }
  absl::StatusOr<TaskConfig> task = ParseTaskConfig({{"name", name},
                                                     {"model", {{"name", "gru"}}},
                                                     {"vocab", {{"salt", "ledger-salt"}}},
                                                     {"cohort", {{"size", 10}}},
                                                     {"dp", dp}});
  EXPECT_TRUE(task.ok()) << task.status();
  return *task;
}

// Counts the draws; `value` is what every draw returns.
struct CountingCoin {
  int draws = 0;
  double value = 0;
  CoinSource Source() {
    return [this]() -> absl::StatusOr<double> {
      ++draws;
      return value;
    };
  }
};

TEST(RandomCheckIn, OfferRateIsWithinBinomialToleranceOfTheTasksProbability) {
  std::mt19937 rng(20261130);  // picks probabilities and times only; the coins are RAND_bytes
  for (int trial = 0; trial < 3; ++trial) {
    const double p = std::uniform_real_distribution<double>(0.05, 0.95)(rng);
    const double window_seconds = std::uniform_real_distribution<double>(10, 7200)(rng);
    const TaskConfig task = DpTask("rate", 1.0, "random_check_in", p, window_seconds);
    TempDir dir;
    Ledger ledger;
    const int windows = 300;
    int offers = 0;
    for (int w = 0; w < windows; ++w) {
      // A random moment inside window 1000 + w.
      const double offset = std::uniform_real_distribution<double>(0.01, 0.99)(rng);
      const auto ms = static_cast<int64_t>((1000 + w + offset) * window_seconds * 1000);
      absl::StatusOr<CheckInDecision> d =
          DecideCheckIn(dir.path(), ledger, task, ms, SecureUnitRandom);
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_EQ(d->window, 1000 + w);
      offers += d->offer;
    }
    const double sd = std::sqrt(p * (1 - p) / windows);
    EXPECT_NEAR(static_cast<double>(offers) / windows, p, 5 * sd) << "p " << p;
    // Every coin is on disk, once per window.
    absl::StatusOr<Ledger> read = ReadLedger(dir.path());
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->coins.size(), static_cast<size_t>(windows));
    EXPECT_TRUE(read->damaged.empty());
  }
}

TEST(RandomCheckIn, AWindowsCoinIsFlippedOnceEvenAcrossRestarts) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const double p = std::uniform_real_distribution<double>(0.1, 0.9)(rng);
    const TaskConfig task = DpTask("once", 1.0, "random_check_in", p, 300);
    TempDir dir;
    CountingCoin coin;
    coin.value = std::uniform_real_distribution<double>(0, 1)(rng);
    const bool expected = coin.value < p;
    const int64_t start = (int64_t{5000} * 300 + 1) * 1000;
    for (int ask = 0; ask < 10; ++ask) {
      // A fresh read of the ledger stands for a restarted daemon.
      absl::StatusOr<Ledger> ledger = ReadLedger(dir.path());
      ASSERT_TRUE(ledger.ok());
      const int64_t ms = start + std::uniform_int_distribution<int64_t>(0, 298'000)(rng);
      absl::StatusOr<CheckInDecision> d =
          DecideCheckIn(dir.path(), *ledger, task, ms, coin.Source());
      ASSERT_TRUE(d.ok());
      EXPECT_EQ(d->offer, expected);
      EXPECT_EQ(d->window, 5000);
    }
    EXPECT_EQ(coin.draws, 1);
    // The next window gets its own coin.
    Ledger ledger = *ReadLedger(dir.path());
    ASSERT_TRUE(DecideCheckIn(dir.path(), ledger, task, start + 300'000, coin.Source()).ok());
    EXPECT_EQ(coin.draws, 2);
  }
}

TEST(RandomCheckIn, AtMostOneRoundPerWindowAndNoCoinWithoutRandomCheckIns) {
  TempDir dir;
  const TaskConfig task = DpTask("one", 1.0, "random_check_in", 0.5, 60);
  CountingCoin yes;
  Ledger ledger;
  const int64_t ms = int64_t{100} * 60 * 1000 + 5;
  ASSERT_TRUE(DecideCheckIn(dir.path(), ledger, task, ms, yes.Source())->offer);
  ASSERT_TRUE(AppendParticipation(dir.path(), ParticipationOf(task, 4, 9, 3, 0.3, 100)).ok());
  ledger = *ReadLedger(dir.path());
  absl::StatusOr<CheckInDecision> again = DecideCheckIn(dir.path(), ledger, task, ms, yes.Source());
  EXPECT_FALSE(again->offer);
  EXPECT_THAT(again->why, HasSubstr("already took part in round 4"));

  const TaskConfig plain = DpTask("plain", 1.0, "none", 1.0);
  CountingCoin never;
  absl::StatusOr<CheckInDecision> d = DecideCheckIn(dir.path(), ledger, plain, ms, never.Source());
  EXPECT_TRUE(d->offer);
  EXPECT_EQ(d->window, -1);
  EXPECT_EQ(never.draws, 0);
}

// The coordinator's accounting (GlobalModel, what /status and the metrics
// report) and the laptop's ledger, fed the same rounds of the same task,
// give the same epsilon. On the code before random check-ins the
// coordinator composed q = cohort / population instead and this failed.
TEST(PrivacyLedger, EpsilonEqualsTheCoordinatorsForTheSameRounds) {
  std::mt19937 rng(14);
  for (int trial = 0; trial < 12; ++trial) {
    const bool random = trial % 2 == 1;
    const double z = std::uniform_real_distribution<double>(0.6, 3.0)(rng);
    const double p = std::uniform_real_distribution<double>(0.01, 0.5)(rng);
    const int rounds = std::uniform_int_distribution<int>(1, 40)(rng);
    // Both mechanisms: the discrete Gaussian's sampled rounds take the
    // general subsampling bound on both sides, the continuous one's the
    // subsampled Gaussian's.
    const bool discrete = trial % 4 < 2;
    const TaskConfig task =
        DpTask(absl::StrCat("same-", trial), z, random ? "random_check_in" : "none", p, 600,
               discrete ? "discrete_gaussian" : "continuous_gaussian");
    const std::optional<DdgRecord> ddg =
        discrete ? std::optional<DdgRecord>(DdgRecord{1e-4, 1234.5, 8192, 32}) : std::nullopt;
    // A population far above the cohort: the old q = cohort / population
    // would be tiny.
    absl::StatusOr<coordinator::GlobalModel> model =
        coordinator::GlobalModel::Create(task, std::vector<float>(4, 0.0f), 100000);
    ASSERT_TRUE(model.ok()) << model.status();
    TempDir dir;
    Ledger ledger;
    for (int round = 1; round <= rounds; ++round) {
      ASSERT_TRUE(model->ApplyRound(std::vector<float>(4, 0.01f), task.cohort.size).ok());
      // The laptop, one window per round: with random check-ins its coin
      // decides (either way the window is a release); without, it takes part.
      int64_t window = -1;
      bool takes_part = true;
      if (random) {
        const int64_t ms =
            static_cast<int64_t>((round + 0.5) * task.dp.check_in_window_seconds * 1000);
        absl::StatusOr<CheckInDecision> d =
            DecideCheckIn(dir.path(), ledger, task, ms, SecureUnitRandom);
        ASSERT_TRUE(d.ok());
        window = d->window;
        takes_part = d->offer;
      }
      if (takes_part) {
        ASSERT_TRUE(AppendParticipation(dir.path(), ParticipationOf(task, round, 100 + round,
                                                                    round - 1, 0.1, window, ddg))
                        .ok());
      }
    }
    ledger = *ReadLedger(dir.path());
    EXPECT_TRUE(ledger.damaged.empty());
    for (const ParticipationRecord& r : ledger.participations) {
      EXPECT_EQ(r.mechanism, discrete ? kDiscreteGaussianMechanism : kGaussianSumMechanism);
      ASSERT_EQ(r.ddg.has_value(), discrete);
      if (discrete) {
        EXPECT_EQ(r.ddg->gamma, 1e-4);
        EXPECT_EQ(r.ddg->local_variance, 1234.5);
        EXPECT_EQ(r.ddg->dim, 8192);
        EXPECT_EQ(r.ddg->bits, 32);
      }
    }
    for (const CoinRecord& c : ledger.coins) {
      EXPECT_EQ(c.mechanism, discrete ? kDiscreteGaussianMechanism : kGaussianSumMechanism);
    }
    absl::StatusOr<TaskSpending> spent = SpentOnTask(ledger, task.name, task.dp.delta);
    ASSERT_TRUE(spent.ok()) << spent.status();
    for (const auto& [release, count] : spent->releases) {
      EXPECT_EQ(std::get<2>(release), discrete);
    }
    EXPECT_NEAR(spent->released, model->epsilon(), 1e-9 * model->epsilon())
        << "z " << z << " rounds " << rounds << (random ? " random p " : " none ") << p;
    if (!random) {
      EXPECT_DOUBLE_EQ(spent->vs_coordinator, spent->released);
    }
    // Against the coordinator, who sees the check-ins: every participation at q = 1.
    privacy::RdpAccountant seen;
    ASSERT_TRUE(seen.ComposeSampledGaussian(1.0, z, spent->participations).ok());
    const double expected = spent->participations == 0 ? 0.0 : seen.Spent(task.dp.delta)->epsilon;
    EXPECT_NEAR(spent->vs_coordinator, expected, 1e-9 * expected);
  }
}

TEST(PrivacyLedger, ARoundWithoutNoiseCostsInfiniteEpsilonAndTasksAreSeparate) {
  TempDir dir;
  const TaskConfig noiseless = DpTask("noiseless", 0.0, "none", 1.0);
  const TaskConfig noisy = DpTask("noisy", 2.0, "none", 1.0);
  ASSERT_TRUE(AppendParticipation(dir.path(), ParticipationOf(noiseless, 1, 1, 0, 0, -1)).ok());
  ASSERT_TRUE(AppendParticipation(dir.path(), ParticipationOf(noisy, 1, 2, 0, 0.5, -1)).ok());
  Ledger ledger = *ReadLedger(dir.path());
  EXPECT_TRUE(std::isinf(SpentOnTask(ledger, "noiseless", 1e-6)->epsilon()));
  const double noisy_epsilon = SpentOnTask(ledger, "noisy", 1e-6)->epsilon();
  EXPECT_TRUE(std::isfinite(noisy_epsilon));
  EXPECT_GT(noisy_epsilon, 0);
  EXPECT_EQ(LedgerTasks(ledger), (std::vector<std::string>{"noiseless", "noisy"}));
}

// A damaged line is listed with its number, the intact lines are kept, and
// the laptop takes part in nothing, budget or not, until the owner looks.
TEST(PrivacyLedger, DamagedLinesAreReportedAndStopParticipation) {
  std::mt19937 rng(3);
  const TaskConfig task = DpTask("damaged", 1.5, "none", 1.0);
  const std::vector<std::string> damages = {
      R"({"kind":"participation","task":"damaged","round":)",  // torn by a crash
      "not json at all",
      R"({"kind":"participation","task":"damaged"})",  // fields missing
      R"({"kind":"coin","task":"damaged","window":1,"window_seconds":60,"probability":1.5,)"
      R"("offered":true,"noise_multiplier":1,"time":"t"})",  // probability out of range
      R"({"kind":"mystery"})",
  };
  for (size_t d = 0; d < damages.size(); ++d) {
    TempDir dir;
    const int before = std::uniform_int_distribution<int>(0, 4)(rng);
    for (int i = 0; i < before; ++i) {
      ASSERT_TRUE(
          AppendParticipation(dir.path(), ParticipationOf(task, i + 1, i, i, 0.2, -1)).ok());
    }
    std::ofstream(dir.File(kPrivacyLedgerFile), std::ios::app) << damages[d] << "\n";
    ASSERT_TRUE(AppendParticipation(dir.path(), ParticipationOf(task, 9, 9, 8, 0.2, -1)).ok());
    absl::StatusOr<Ledger> ledger = ReadLedger(dir.path());
    ASSERT_TRUE(ledger.ok());
    ASSERT_EQ(ledger->damaged.size(), 1u) << damages[d];
    EXPECT_THAT(ledger->damaged[0], HasSubstr(absl::StrCat("line ", before + 1, ":")));
    EXPECT_EQ(ledger->participations.size(), static_cast<size_t>(before + 1));
    ParticipationPolicy no_budget;  // max_epsilon unset: still refused
    absl::Status refused = CheckPrivacyBudget(no_budget, *ledger, task, -1);
    EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(refused.message(), HasSubstr(absl::StrCat("line ", before + 1)));
    EXPECT_THAT(refused.message(), HasSubstr(kPrivacyLedgerFile));
  }
}

// Rounds are allowed while one more stays within max_epsilon: the spent
// epsilon never passes the budget, and the refusal says why.
TEST(PrivacyBudget, StopsBeforeTheBudgetIsPassed) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 6; ++trial) {
    const bool random = trial % 2 == 0;
    const TaskConfig task = DpTask("budget", std::uniform_real_distribution<double>(2, 4)(rng),
                                   random ? "random_check_in" : "none", 0.5, 60);
    ParticipationPolicy policy;
    policy.max_epsilon = std::uniform_real_distribution<double>(6, 12)(rng);
    TempDir dir;
    int allowed = 0;
    for (int round = 1; round <= 500; ++round) {
      Ledger ledger = *ReadLedger(dir.path());
      const int64_t window = random ? round : -1;
      absl::Status ok = CheckPrivacyBudget(policy, ledger, task, window);
      if (!ok.ok()) {
        EXPECT_THAT(ok.message(), HasSubstr("max_epsilon"));
        break;
      }
      ++allowed;
      if (random) {
        CoinRecord coin{
            task.name, window, 60, 0.5, true, task.dp.noise_multiplier, LedgerMechanismOf(task),
            ""};
        ASSERT_TRUE(AppendCoin(dir.path(), coin).ok());
      }
      ASSERT_TRUE(
          AppendParticipation(dir.path(), ParticipationOf(task, round, round, round - 1, 1, window))
              .ok());
      EXPECT_LE(SpentOnTask(*ReadLedger(dir.path()), task.name, policy.delta)->epsilon(),
                *policy.max_epsilon);
    }
    EXPECT_GT(allowed, 0);
    EXPECT_LT(allowed, 500);
  }
}

TEST(ParticipationPolicy, BudgetKeysParseAndErrorsNameTheKey) {
  absl::StatusOr<ParticipationPolicy> p =
      ParseParticipationPolicyJson(R"({"max_epsilon": 8, "delta": 1e-7})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p->max_epsilon, 8);
  EXPECT_EQ(p->delta, 1e-7);
  EXPECT_FALSE(ParseParticipationPolicyJson(R"({"max_epsilon": null})")->max_epsilon);
  EXPECT_FALSE(ParseParticipationPolicyJson("{}")->max_epsilon);
  // The defaults file round-trips.
  EXPECT_TRUE(ParseParticipationPolicyJson(DefaultParticipationPolicyJson()).ok());
  for (const char* bad : {R"({"max_epsilon": -1})", R"({"max_epsilon": 0})",
                          R"({"max_epsilon": "8"})", R"({"max_epsilon": true})"}) {
    absl::StatusOr<ParticipationPolicy> e = ParseParticipationPolicyJson(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_THAT(e.status().message(), HasSubstr("'max_epsilon'")) << bad;
  }
  for (const char* bad : {R"({"delta": 0})", R"({"delta": 0.5})", R"({"delta": [1]})"}) {
    absl::StatusOr<ParticipationPolicy> e = ParseParticipationPolicyJson(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_THAT(e.status().message(), HasSubstr("'delta'")) << bad;
  }
}

}  // namespace
}  // namespace tacit::runtime
