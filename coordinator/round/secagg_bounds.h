#pragma once

// What a task's secure aggregation settings promise, for `check-config` and
// `serve`: the SecAgg+ privacy and correctness failure bounds (log2, union
// bounds over the cohort, secure_agg/parameters.h after Bell et al. 2020) of
// the threshold and degree PlanRound would use for a full cohort, next to the
// bounds of the automatic choice for the same cohort.
//
// An operator's override of secure_agg.threshold / secure_agg.neighbors is
// refused when it misses a target (privacy 2^-40, correctness 2^-20) by more
// than the automatic choice does: an override may trade nothing the automatic
// choice would keep. A tiny cohort whose automatic choice already misses the
// correctness target (a round abandoned more often, never a privacy loss) is
// reported, not refused.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "task/task_config.h"

namespace tacit::coordinator {

struct SecAggBoundsReport {
  uint32_t cohort = 0;            // clients selected per round (cohort.size x over_selection)
  uint32_t min_survivors = 0;     // cohort.min_survivors: fewer in the sum abandons the round
  uint32_t max_dropouts = 0;      // dropouts a full cohort tolerates: cohort - min_survivors
  double dropout_rate = 0;        // assumed: 1 - cohort.min_survivors / cohort
  double corruption_rate = 0;     // clients assumed colluding with the coordinator
  double privacy_target = 0;      // log2, e.g. -40
  double correctness_target = 0;  // log2, e.g. -20
  bool overridden = false;        // the task sets secure_agg.threshold or .neighbors
  uint32_t threshold = 0;         // what rounds use
  uint32_t neighbors = 0;         // 0: complete graph
  double log2_privacy_failure = 0;
  double log2_correctness_failure = 0;
  uint32_t auto_threshold = 0;  // the automatic choice for the same cohort
  uint32_t auto_neighbors = 0;
  double auto_log2_privacy_failure = 0;
  double auto_log2_correctness_failure = 0;

  bool MissesPrivacyTarget() const { return log2_privacy_failure > privacy_target; }
  bool MissesCorrectnessTarget() const { return log2_correctness_failure > correctness_target; }
  // The override misses a target the automatic choice meets, or misses it by more.
  bool OverrideIsWorse() const;
  // Lines for an operator: the figures, then a warning per missed target.
  std::string Describe() const;
};

// FailedPrecondition, naming the key to change, when a round could close
// selection with clients it cannot run with: PlanRound (the round's own
// planning) is asked for the full cohort and for the smallest one selection
// accepts (cohort.min_survivors clients), so check-config, serve and the
// round cannot disagree.
absl::StatusOr<SecAggBoundsReport> EvaluateSecAggBounds(const TaskConfig& task);

// OK, or FailedPrecondition saying which bound the override breaks, by how
// much, what the automatic choice gives and how to proceed (remove the
// override, or force it).
absl::Status RefuseWeakOverrides(const SecAggBoundsReport& report);

}  // namespace tacit::coordinator
