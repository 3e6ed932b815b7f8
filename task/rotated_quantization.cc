#include "task/rotated_quantization.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "privacy/conditional_rounding.h"
#include "privacy/hadamard_rotation.h"
#include "task/ring_bits.h"

namespace tacit {
namespace {

// Each block's rotation has its own public signs: the round seed mixed with
// the block's index (SplitMix64's finalizer), so no two blocks share signs.
uint64_t BlockSeed(uint64_t rotation_seed, size_t block_index) {
  uint64_t z = rotation_seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(block_index) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Rounding without a norm condition: ConditionalRandomizedRound with a bound
// no k-level vector reaches, so the first draw is kept.
constexpr double kNoNormCondition = 0x1p61;

}  // namespace

std::vector<size_t> RotationBlocks(size_t dim) {
  std::vector<size_t> blocks(dim / kMaxRotationBlock, kMaxRotationBlock);
  size_t rest = dim % kMaxRotationBlock;
  rest = (rest + kMinRotationBlock - 1) / kMinRotationBlock * kMinRotationBlock;
  for (size_t block = kMaxRotationBlock / 2; block >= kMinRotationBlock; block /= 2) {
    if (rest & block) blocks.push_back(block);
  }
  return blocks;
}

double RotatedQuantizationPlan::MeanSquaredErrorBound(int64_t clients) const {
  return static_cast<double>(encoded_dim) * Step() * Step() / (4.0 * static_cast<double>(clients));
}

int CompressedRingBits(int bits_per_coordinate, int64_t max_clients) {
  const absl::uint128 largest_sum =
      absl::uint128((uint64_t{1} << bits_per_coordinate) - 1) * static_cast<uint64_t>(max_clients);
  int bits = 1;
  while (bits < 127 && (absl::uint128(1) << bits) <= largest_sum) ++bits;
  return bits;
}

absl::StatusOr<RotatedQuantizationPlan> RotatedQuantizationPlanOfTask(const TaskConfig& task,
                                                                      int64_t model_length) {
  const CompressionConfig& c = task.secure_agg.compression;
  if (c.type != CompressionType::kRotatedQuantization) {
    return absl::InvalidArgumentError(
        absl::StrCat("task '", task.name, "' does not compress (secure_agg.compression.type is ",
                     CompressionTypeName(c.type), ")"));
  }
  if (model_length <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotated quantization needs a model with coordinates, got ", model_length));
  }
  RotatedQuantizationPlan plan;
  plan.bits_per_coordinate = c.bits_per_coordinate;
  plan.max_clients = MaxClientsInSum(task);
  plan.dim = static_cast<size_t>(model_length);
  plan.blocks = RotationBlocks(plan.dim);
  for (size_t block : plan.blocks) plan.encoded_dim += block;
  plan.clip_norm = task.dp.clip_norm;
  plan.range = c.range_sigmas * task.dp.clip_norm / std::sqrt(static_cast<double>(plan.dim));
  // The evaluation counts and the weight share the ring in fixed point
  // (federated_evaluation.h): at least scale 1 for them.
  TACIT_ASSIGN_OR_RETURN(int fixed_point_bits, FixedPointRingBits(task, 0));
  const int needed =
      std::max(CompressedRingBits(plan.bits_per_coordinate, plan.max_clients), fixed_point_bits);
  if (task.secure_agg.bits == kAutoBits) {
    plan.bits = needed;
  } else if (task.secure_agg.bits < needed) {
    return absl::OutOfRangeError(absl::StrCat(
        "task '", task.name, "': secure_agg.bits ", task.secure_agg.bits,
        " cannot hold the sum of ", plan.max_clients, " clients' ", plan.bits_per_coordinate,
        "-bit coordinates: use at least ", needed, " bits, or 0 (auto)"));
  } else {
    plan.bits = task.secure_agg.bits;
  }
  if (plan.bits > kMaxRingBits) {
    return absl::OutOfRangeError(absl::StrCat("task '", task.name, "': rotated quantization needs ",
                                              plan.bits, " bits, beyond the ", kMaxRingBits,
                                              "-bit ring: lower bits_per_coordinate"));
  }
  return plan;
}

absl::StatusOr<QuantizedUpdate> QuantizeRotated(absl::Span<const double> update,
                                                const RotatedQuantizationPlan& plan,
                                                uint64_t rotation_seed,
                                                privacy::RandomDraws& draws) {
  if (update.size() != plan.dim) {
    return absl::InvalidArgumentError(absl::StrCat("rotated quantization expects ", plan.dim,
                                                   " coordinates, got ", update.size()));
  }
  if (!(plan.range > 0) || plan.bits_per_coordinate < 1 || plan.bits_per_coordinate > 52) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotated quantization needs a positive range and 1..52 bits per coordinate, "
                     "got range ",
                     plan.range, " and ", plan.bits_per_coordinate, " bits"));
  }
  const double levels = plan.Levels();
  const double step = plan.Step();
  QuantizedUpdate out;
  out.levels.reserve(plan.encoded_dim);
  std::vector<double> block_values;
  size_t offset = 0;
  for (size_t b = 0; b < plan.blocks.size(); ++b) {
    const size_t size = plan.blocks[b];
    // The last block holds fewer coordinates than its size: zero padding.
    const size_t real = std::min(size, plan.dim - std::min(plan.dim, offset));
    block_values.assign(size, 0.0);
    std::copy(update.begin() + offset, update.begin() + offset + real, block_values.begin());
    offset += real;
    TACIT_ASSIGN_OR_RETURN(privacy::HadamardRotation rotation,
                           privacy::HadamardRotation::Create(size, BlockSeed(rotation_seed, b)));
    TACIT_ASSIGN_OR_RETURN(std::vector<double> rotated, rotation.Rotate(block_values));
    for (double& v : rotated) {
      if (!std::isfinite(v)) return absl::InvalidArgumentError("update holds a non-finite value");
      if (v < -plan.range || v > plan.range) ++out.clipped;
      v = (std::clamp(v, -plan.range, plan.range) + plan.range) / step;
      v = std::clamp(v, 0.0, levels);  // float rounding at the ends
    }
    TACIT_ASSIGN_OR_RETURN(privacy::RoundedVector rounded,
                           privacy::ConditionalRandomizedRound(rotated, kNoNormCondition, draws));
    for (int64_t level : rounded.values) out.levels.push_back(static_cast<uint64_t>(level));
    std::fill(block_values.begin(), block_values.end(), 0.0);  // the clear update
    std::fill(rotated.begin(), rotated.end(), 0.0);
  }
  return out;
}

double HonestSumNormBound(const RotatedQuantizationPlan& plan, int64_t clients) {
  const double n = static_cast<double>(clients);
  return n * plan.clip_norm +
         std::sqrt(n) * plan.Step() / 2 * (std::sqrt(static_cast<double>(plan.encoded_dim)) + 8);
}

absl::StatusOr<std::vector<double>> DecodeRotatedSum(absl::Span<const uint64_t> level_sums,
                                                     const RotatedQuantizationPlan& plan,
                                                     uint64_t rotation_seed, int64_t clients) {
  if (level_sums.size() != plan.encoded_dim) {
    return absl::InvalidArgumentError(absl::StrCat("the compressed sum has ", level_sums.size(),
                                                   " coordinates, the plan ", plan.encoded_dim));
  }
  if (clients < 1 || clients > plan.max_clients) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a compressed sum of ", clients, " clients; the ring holds 1 to ", plan.max_clients));
  }
  const double most = plan.Levels() * static_cast<double>(clients);
  const double offset = plan.range * static_cast<double>(clients);
  // The rotated sums first: the rotation is orthonormal, so their norm is the
  // decoded sum's (padding included), checked before anything is unrotated.
  std::vector<double> rotated(plan.encoded_dim);
  double square = 0;
  for (size_t i = 0; i < plan.encoded_dim; ++i) {
    const double s = static_cast<double>(level_sums[i]);
    if (s > most) {
      return absl::DataLossError(
          absl::StrCat("the compressed sum's coordinate ", i, " is ", s, ", beyond the ", most,
                       " that ", clients,
                       " honest encodings can reach: a client masked a crafted vector; "
                       "the round is abandoned"));
    }
    rotated[i] = s * plan.Step() - offset;
    square += rotated[i] * rotated[i];
  }
  const double bound = HonestSumNormBound(plan, clients);
  if (!(std::sqrt(square) <= bound)) {
    return absl::DataLossError(
        absl::StrCat("the compressed sum of ", clients, " updates has norm ", std::sqrt(square),
                     ", beyond the ", bound, " that updates clipped to ", plan.clip_norm,
                     " can reach: a client masked a crafted vector; the round is abandoned"));
  }
  std::vector<double> sum;
  sum.reserve(plan.dim);
  size_t at = 0;
  for (size_t b = 0; b < plan.blocks.size(); ++b) {
    const size_t size = plan.blocks[b];
    TACIT_ASSIGN_OR_RETURN(privacy::HadamardRotation rotation,
                           privacy::HadamardRotation::Create(size, BlockSeed(rotation_seed, b)));
    TACIT_ASSIGN_OR_RETURN(std::vector<double> block,
                           rotation.Inverse(absl::MakeConstSpan(rotated).subspan(at, size)));
    at += size;
    const size_t real = std::min(size, plan.dim - sum.size());
    sum.insert(sum.end(), block.begin(), block.begin() + real);
  }
  return sum;
}

}  // namespace tacit
