#pragma once

// The distributed discrete Gaussian a task implies (dp.mechanism
// "discrete_gaussian" with dp.noise_multiplier > 0): the same plan on the
// laptop and on the coordinator, computed by each from the task alone, so the
// laptop never takes its noise from the coordinator's word. The coordinator
// decodes the sum with the plan; a coordinator that planned differently only
// spoils its own model, the laptop's noise is what the laptop planned.
//
// The rotation's signs are public: they are expanded from the round id (the
// coordinator picks it, so it can pick signs; that can only raise the wrap
// rate, a utility loss, never the privacy loss: the norm bound is enforced
// after the rotation, privacy/distributed_discrete_gaussian.h).

#include <cstdint>

#include "absl/status/statusor.h"
#include "privacy/ddg_planner.h"
#include "task/task_config.h"

namespace tacit {

// True when the task adds noise through the distributed discrete Gaussian.
bool UsesDiscreteGaussian(const TaskConfig& task);

// privacy::PlanDdgForNoise for a model of `model_length` coordinates when at
// least `min_survivors` updates reach the sum: the task's z, clip norm and
// secure_agg.bits (planned by task/ring_bits.h when 0), at most
// SelectedPerRound() updates in a sum, wrap
// probability <= 1e-9 per round. InvalidArgument unless UsesDiscreteGaussian.
absl::StatusOr<privacy::DdgPlan> DdgPlanOfTask(const TaskConfig& task, int64_t min_survivors,
                                               int64_t model_length);

// The seed of round `round_id`'s public rotation (privacy/hadamard_rotation.h).
inline uint64_t DdgRotationSeed(uint64_t round_id) { return round_id; }

}  // namespace tacit
