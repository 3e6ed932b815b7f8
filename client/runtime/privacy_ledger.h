#pragma once

// The laptop's privacy ledger: <client dir>/privacy_ledger.jsonl, the owner's
// own record of every differential-privacy release this laptop took part in,
// from which the laptop computes the epsilon it spent (privacy::RdpAccountant,
// at the owner's delta) without believing the coordinator's figure.
//
// Two kinds of JSON lines, each appended and fsync'ed before the laptop acts
// on it:
//   {"kind":"coin", "task", "window", "window_seconds", "probability",
//    "offered", "noise_multiplier", "time"}
//       one random check-in coin (random_check_in.h), written before the
//       laptop checks in (or refuses) for that window, so a window's coin is
//       never flipped twice, not even across a restart;
//   {"kind":"participation", "task", "round", "round_id", "model_version",
//    "window", "mechanism", "noise_multiplier", "noise_stddev", "clip_norm",
//    "min_survivors", "sampling", "q", "time"}
//       one round whose masked (noised) update this laptop is about to send,
//       written before the masked input leaves: no crash can lose it.
//
// Two epsilons per task:
//   released         what a reader of the released models faces; what the
//                    coordinator reports. Without random check-ins every
//                    participation is one Gaussian release at q = 1. With them,
//                    every window whose coin was flipped is one subsampled
//                    release at q = the coin's probability (the laptop joins at
//                    most one round per window), whether it offered itself or
//                    not: that is what amplification by sampling charges.
//   vs_coordinator   what the coordinator faces: it sees which laptops check in
//                    (their TLS certificates), so sampling hides nothing from
//                    it; every participation is one Gaussian release at q = 1.
// The laptop enforces its budget on the larger of the two.
//
// A damaged line (not JSON, or a known kind with a missing or out-of-range
// field) is never skipped: it is listed in `damaged`, and the laptop takes no
// part in any round until the owner has looked at it (privacy_budget.h). Why
// not count it instead: its noise is unknown, and the worst case of an
// unknown noise (z = 0) is an infinite epsilon, so worst-case accounting and
// refusing amount to the same; refusing says so plainly.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "task/task_config.h"

namespace tacit::runtime {

inline constexpr const char* kPrivacyLedgerFile = "privacy_ledger.jsonl";
// The mechanisms (task/task_config.h DpMechanism):
//   distributed_discrete_gaussian  the default: each laptop encodes its
//       clipped update with the distributed discrete Gaussian it planned
//       itself from the task (task/ddg_task.h); the sum of at least
//       min_survivors is at least as private as the Gaussian at z at every
//       RDP order. Sampled releases get the general subsampling bound
//       (privacy::GaussianDominatedRdp).
//   distributed_gaussian  continuous shares of stddev z C / sqrt(min_survivors)
//       (common/dp_noise.h), accounted as the subsampled Gaussian at z; an
//       approximation (rounding and wrap are not in it).
inline constexpr const char* kGaussianSumMechanism = "distributed_gaussian";
inline constexpr const char* kDiscreteGaussianMechanism = "distributed_discrete_gaussian";

// What a discrete Gaussian participation used, for the owner to inspect.
struct DdgRecord {
  double gamma = 0;           // grid step, update units
  double local_variance = 0;  // sigma^2 of this laptop's integer noise
  int64_t dim = 0;            // rotated (padded) coordinates
  int bits = 0;               // ring of the secure sum
};

struct CoinRecord {
  std::string task;
  int64_t window = 0;
  double window_seconds = 0;
  double probability = 1;
  bool offered = false;
  double noise_multiplier = 0;                    // the task's z when the coin was flipped
  std::string mechanism = kGaussianSumMechanism;  // the task's, when the coin was flipped
  std::string time;
};

struct ParticipationRecord {
  std::string task;
  int64_t round = 0;
  uint64_t round_id = 0;
  int64_t model_version = 0;  // the version trained from
  int64_t window = -1;        // the random check-in window; -1 without random check-ins
  std::string mechanism = kGaussianSumMechanism;
  double noise_multiplier = 0;   // z the sum carries when min_survivors shares reach it
  double noise_stddev = 0;       // this laptop's own share, as added, update units
  std::optional<DdgRecord> ddg;  // set for the discrete Gaussian
  double clip_norm = 0;
  int min_survivors = 0;  // the survivors the coordinator promised (the task's)
  std::string sampling;   // "none" | "random_check_in"
  double q = 1;           // the sampling rate of the release
  std::string time;
};

struct Ledger {
  std::vector<CoinRecord> coins;
  std::vector<ParticipationRecord> participations;
  std::vector<std::string> damaged;  // "line 7: <why>", in file order
};

// The participation as recorded for `task`'s round; `window` -1 without
// random check-ins; `ddg` the laptop's own discrete Gaussian plan when the
// task uses it (noise_stddev is then its gamma * sigma).
ParticipationRecord ParticipationOf(const TaskConfig& task, int64_t round, uint64_t round_id,
                                    int64_t model_version, double noise_stddev, int64_t window,
                                    const std::optional<DdgRecord>& ddg = std::nullopt);

// The mechanism name a task's releases are recorded under: discrete when the
// task adds noise through the discrete Gaussian, else distributed_gaussian.
const char* LedgerMechanismOf(const TaskConfig& task);

// Appends one line and fsyncs it (Internal naming the file otherwise: the
// caller must not act as if it were recorded).
absl::Status AppendCoin(const std::string& dir, const CoinRecord& coin);
absl::Status AppendParticipation(const std::string& dir, const ParticipationRecord& record);

// The whole ledger (empty when the file does not exist). Errors only when the
// file exists but cannot be read; damaged lines are listed, not dropped.
absl::StatusOr<Ledger> ReadLedger(const std::string& dir);

struct TaskSpending {
  // The releases behind `released`: (q, z, discrete) -> how many, for other
  // accountants (`tacit-client privacy` adds the PLD accountant's figure
  // when no release is discrete: the PLD accountant knows the Gaussian only).
  std::map<std::tuple<double, double, bool>, int64_t> releases;
  int64_t participations = 0;
  int64_t windows = 0;  // random check-in windows whose coin was flipped
  double released = 0;  // epsilon (see above); infinity when a release had no noise
  double vs_coordinator = 0;
  double epsilon() const { return released > vs_coordinator ? released : vs_coordinator; }
};

// A release the laptop is about to make, for "would one more round go past
// the budget": a participation in `task`'s next round, in random check-in
// `window` (its coin counted unless the ledger holds it already).
struct NextRelease {
  const TaskConfig* task = nullptr;
  int64_t window = -1;  // -1 without random check-ins
};

// What `task_name` has cost so far at `delta`, plus `next` when given.
absl::StatusOr<TaskSpending> SpentOnTask(const Ledger& ledger, const std::string& task_name,
                                         double delta, std::optional<NextRelease> next = {});

// Task names in the ledger (those with coins first), each once.
std::vector<std::string> LedgerTasks(const Ledger& ledger);

}  // namespace tacit::runtime
