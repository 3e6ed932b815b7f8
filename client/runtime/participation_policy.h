#pragma once

// The owner's participation policy: the floors under which this laptop does
// not take part in a round, whatever the coordinator says. The coordinator
// (run by the employer, who also runs the CA) can lower a task's cohort, its
// secure-aggregation threshold or the DP noise it assigns; the laptop checks
// all three against this file and refuses the round, with an audit line that
// says why, before any key leaves it. Read from
// <client dir>/participation_policy.json (written with the defaults below on
// first run); missing keys keep their defaults, unknown keys are errors and
// every error names the key.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "tacit/v1/secagg.pb.h"
#include "task/task_config.h"

namespace tacit::runtime {

struct ParticipationPolicy {
  // Fewer clients than this in the task's cohort or in the round's
  // secure-aggregation parameters: refused (a small cohort narrows whose
  // update the sum can be).
  int min_cohort_size = 4;
  // Secure aggregation's Shamir threshold at least this: fewer shares would
  // let a coordinator with few colluding clients unmask one update.
  int min_secagg_threshold = 3;
  // The fewest survivors a task may promise (cohort.min_survivors): fewer is
  // refused. The laptop's DP noise share is computed for
  // max(task cohort.min_survivors, this), which for an accepted task is the
  // task's promise; a larger assumed count would mean less noise each.
  int min_survivors = 3;
  // Rounds this laptop joins per UTC day (counted from its audit log).
  int max_rounds_per_day = 24;
  // The privacy budget per task: the laptop stops taking part in a task once
  // one more round would take the epsilon it spent on that task (computed on
  // the laptop from its privacy ledger, privacy_ledger.h, at `delta`) past
  // this. Unset (JSON null): no budget; the spending is still recorded and
  // shown by `tacit-client privacy`.
  std::optional<double> max_epsilon;
  // The delta the laptop's epsilon is computed at, whatever the task's.
  double delta = 1e-6;
  // Fine-tune a personal model after a round when the task asks for one
  // (task.personalization): CPU on this laptop, nothing sent. false: never.
  bool personal_model = true;
};

inline constexpr const char* kParticipationPolicyFile = "participation_policy.json";

std::string DefaultParticipationPolicyJson();
absl::StatusOr<ParticipationPolicy> ParseParticipationPolicyJson(
    absl::string_view text, absl::string_view source = "participation policy");
// <dir>/participation_policy.json; the defaults when absent.
absl::StatusOr<ParticipationPolicy> LoadParticipationPolicy(const std::string& dir);
// Writes the defaults to <dir>/participation_policy.json unless it exists, so
// the owner finds a file to edit (the daemon does, on start).
absl::Status WriteDefaultParticipationPolicy(const std::string& dir);
nlohmann::json ParticipationPolicyToJson(const ParticipationPolicy& policy);

// FailedPrecondition naming the value below the policy, else OK.
absl::Status CheckTaskAgainstPolicy(const ParticipationPolicy& policy, const TaskConfig& task);
// The round-start parameters secure aggregation will run with (cohort size,
// threshold), checked before the client advertises a key.
absl::Status CheckRoundAgainstPolicy(const ParticipationPolicy& policy,
                                     const v1::SecAggRoundParameters& parameters);

// This client's own continuous DP noise share: PerClientNoiseStddev(
// noise_multiplier, clip_norm, max(task cohort.min_survivors, policy
// min_survivors)); 0 when the task has no DP noise or uses the discrete
// Gaussian (its noise is planned at encoding, task/ddg_task.h).
absl::StatusOr<double> OwnNoiseStddev(const ParticipationPolicy& policy, const TaskConfig& task);
// FailedPrecondition when the coordinator assigned less noise than `own`.
absl::Status CheckAssignedNoise(double own, double assigned);

}  // namespace tacit::runtime
