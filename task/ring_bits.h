#pragma once

// How many bits the secure sum's ring has: the task's explicit
// secure_agg.bits, or (secure_agg.bits 0, "auto") the smallest ring in which
// the sum of every client the round can hold cannot wrap, planned from the
// task alone so that the laptop and the coordinator both compute it:
//   - rotated quantization (rotated_quantization.h): k + ceil(log2(n)) bits
//     for the model delta, at least what the fixed-point evaluation counts and
//     weight need at scale 1;
//   - the distributed discrete Gaussian: the narrowest ring whose plan
//     (task/ddg_task.h) adds at most 5% to the continuous Gaussian's error;
//   - fixed point: 1 sign bit + ceil(log2(n * max_weight * max(clip_range, 1)))
//     + kAutoResolutionBits, so each client keeps clip_range * 2^-16 resolution.
// n is MaxClientsInSum. A ring that is too narrow lets the sum wrap (the
// decoded model is garbage, and a wrapped sum can single out one input); one
// that is too wide wastes the laptop's upload. The laptop refuses both
// (CheckRoundRing) before it advertises a key.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tacit/v1/secagg.pb.h"
#include "task/task_config.h"

namespace tacit {

// secure_agg.bits 0: the ring is planned.
constexpr int kAutoBits = 0;
// Rings the secure sum supports (secure_agg/fixed_point.h kMaxBits).
constexpr int kMinRingBits = 8;
constexpr int kMaxRingBits = 62;
// Resolution, in bits below clip_range, an auto-planned fixed-point ring keeps.
constexpr int kAutoResolutionBits = 16;

// Most updates one sum can hold: max(SelectedPerRound(), cohort.min_survivors).
int64_t MaxClientsInSum(const TaskConfig& task);

// The smallest ring in [kMinRingBits, kMaxRingBits] in which MaxClientsInSum
// fixed-point elements at scale 2^resolution_bits cannot wrap (the bound of
// secure_agg/fixed_point.h CheckNoWrap: each element at most
// ceil(max_weight * max(clip_range, 1) * scale) + 1 in magnitude, plus a sign).
// OutOfRange when even kMaxRingBits wrap.
absl::StatusOr<int> FixedPointRingBits(const TaskConfig& task, int resolution_bits);

// The task's ring for a model of `model_length` coordinates: explicit or planned.
absl::StatusOr<int> RingBitsOfTask(const TaskConfig& task, int64_t model_length);

// One line for check-config and logs: the ring, planned or explicit, what
// planned it, and the bytes one input costs per model parameter.
absl::StatusOr<std::string> DescribeRingOfTask(const TaskConfig& task, int64_t model_length);

// The laptop's check of the coordinator's round parameters against its own
// plan of the task: the ring must be exactly RingBitsOfTask (narrower can
// wrap, wider wastes upload) and the cohort at most MaxClientsInSum (a bigger
// cohort could wrap the ring planned for it). FailedPrecondition naming both
// figures otherwise.
absl::Status CheckRoundRing(const TaskConfig& task, int64_t model_length,
                            const v1::SecAggRoundParameters& parameters);

}  // namespace tacit
