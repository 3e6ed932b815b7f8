#include "task/ring_bits.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "task/ddg_task.h"
#include "task/federated_evaluation.h"
#include "task/rotated_quantization.h"

namespace tacit {
namespace {

// The discrete Gaussian's error at most this factor of the continuous
// Gaussian's (privacy::DdgPlanRequest::max_noise_inflation's default).
constexpr double kMaxDdgNoiseInflation = 1.05;

// The narrowest ring whose discrete Gaussian plan succeeds with at most
// kMaxDdgNoiseInflation; the widest that plans when none is that close. The
// inflation falls as the ring widens (a finer grid for the same wrap bound),
// so the first ring that meets it is the answer.
absl::StatusOr<int> DdgRingBits(const TaskConfig& task, int64_t model_length) {
  TaskConfig widened = task;
  absl::Status last = absl::OkStatus();
  int best = 0;
  for (int bits = 16; bits <= 48; ++bits) {
    widened.secure_agg.bits = bits;
    absl::StatusOr<privacy::DdgPlan> plan =
        DdgPlanOfTask(widened, task.cohort.min_survivors, model_length);
    if (!plan.ok()) {
      last = plan.status();
      continue;
    }
    best = bits;
    if (plan->noise_inflation <= kMaxDdgNoiseInflation) return bits;
  }
  if (best > 0) return best;
  return absl::Status(last.code(), absl::StrCat("no ring from 16 to 48 bits holds the discrete "
                                                "Gaussian of task '",
                                                task.name, "': ", last.message()));
}

}  // namespace

int64_t MaxClientsInSum(const TaskConfig& task) {
  return std::max<int64_t>(task.SelectedPerRound(), task.cohort.min_survivors);
}

absl::StatusOr<int> FixedPointRingBits(const TaskConfig& task, int resolution_bits) {
  const double n = static_cast<double>(MaxClientsInSum(task));
  const double element =
      std::ceil(task.aggregation.max_weight * std::max(task.secure_agg.clip_range, 1.0) *
                std::ldexp(1.0, resolution_bits)) +
      1;
  for (int bits = kMinRingBits; bits <= kMaxRingBits; ++bits) {
    if (n * element <= std::ldexp(1.0, bits - 1) - 1) return bits;
  }
  return absl::OutOfRangeError(absl::StrCat(
      "task '", task.name, "': ", n, " clients at weight ", task.aggregation.max_weight,
      " and clip range ", task.secure_agg.clip_range, " with 2^-", resolution_bits,
      " resolution do not fit a ", kMaxRingBits,
      "-bit ring: lower aggregation.max_weight, secure_agg.clip_range or the cohort size"));
}

absl::StatusOr<int> RingBitsOfTask(const TaskConfig& task, int64_t model_length) {
  if (task.secure_agg.compression.type == CompressionType::kRotatedQuantization) {
    TACIT_ASSIGN_OR_RETURN(RotatedQuantizationPlan plan,
                           RotatedQuantizationPlanOfTask(task, model_length));
    return plan.bits;
  }
  if (task.secure_agg.bits != kAutoBits) return task.secure_agg.bits;
  if (UsesDiscreteGaussian(task)) return DdgRingBits(task, model_length);
  return FixedPointRingBits(task, kAutoResolutionBits);
}

absl::StatusOr<std::string> DescribeRingOfTask(const TaskConfig& task, int64_t model_length) {
  TACIT_ASSIGN_OR_RETURN(int bits, RingBitsOfTask(task, model_length));
  const bool compressed = task.secure_agg.compression.type == CompressionType::kRotatedQuantization;
  std::string why = task.secure_agg.bits != kAutoBits ? "secure_agg.bits"
                    : compressed
                        ? "planned: the fewest bits that hold the clients' largest compressed sum"
                    : UsesDiscreteGaussian(task)
                        ? "planned: narrowest ring for the discrete Gaussian"
                        : absl::StrCat("planned: ", kAutoResolutionBits,
                                       " bits of resolution + log2 of the clients x max weight");
  uint64_t encoded = static_cast<uint64_t>(model_length);
  std::string line = absl::StrCat("secure aggregation ring: ", bits, " bits (", why, "; at most ",
                                  MaxClientsInSum(task), " clients in a sum)");
  if (compressed) {
    TACIT_ASSIGN_OR_RETURN(RotatedQuantizationPlan plan,
                           RotatedQuantizationPlanOfTask(task, model_length));
    encoded = plan.encoded_dim;
    absl::StrAppend(&line, "; rotated quantization: ", plan.bits_per_coordinate,
                    " bits per coordinate on [-", plan.range, ", ", plan.range, "], ",
                    plan.encoded_dim, " rotated coordinates");
  }
  if (UsesDiscreteGaussian(task)) {
    uint64_t padded = 1;
    while (padded < encoded) padded *= 2;
    encoded = padded;
  }
  // The masked input: the encoded model, the evaluation counts and the weight.
  const uint64_t extra = (task.evaluation.enabled ? kEvaluationCoordinates : 0) + 1;
  const double bytes = std::ceil(static_cast<double>(encoded + extra) * bits / 8);
  absl::StrAppend(&line, "; ", absl::StrFormat("%.3f", bytes / static_cast<double>(model_length)),
                  " bytes per parameter per input");
  return line;
}

absl::Status CheckRoundRing(const TaskConfig& task, int64_t model_length,
                            const v1::SecAggRoundParameters& parameters) {
  TACIT_ASSIGN_OR_RETURN(int bits, RingBitsOfTask(task, model_length));
  if (parameters.bits() != static_cast<uint32_t>(bits)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the coordinator's round sums in a ", parameters.bits(),
                     "-bit ring but task '", task.name, "' plans ", bits, " bits on this laptop (",
                     parameters.bits() < static_cast<uint32_t>(bits)
                         ? "a narrower ring lets the sum wrap"
                         : "a wider ring sends more bytes than the task needs",
                     "); nothing was sent: the coordinator must plan the ring from the task"));
  }
  const int64_t most = MaxClientsInSum(task);
  if (static_cast<int64_t>(parameters.cohort_size()) > most) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the coordinator's round has ", parameters.cohort_size(), " clients but task '", task.name,
        "' sums at most ", most,
        " (cohort.size x over_selection), which its ring is planned for; nothing was sent"));
  }
  return absl::OkStatus();
}

}  // namespace tacit
