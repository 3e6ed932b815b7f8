#pragma once

// Compression that composes with secure aggregation (Suresh, Yu, Kumar,
// McMahan 2017, "Distributed Mean Estimation with Limited Communication",
// rotated stochastic k-level quantization, in its SecAgg-compatible form: one
// public range for every client instead of a per-client min/max):
//   client: its clipped model delta x (||x||_2 <= dp.clip_norm) is cut into
//           power-of-two blocks (RotationBlocks), each block rotated with the
//           randomized Hadamard of the discrete Gaussian
//           (privacy/hadamard_rotation.h; public signs from the round seed);
//           every rotated coordinate is clipped to [-R, R] (counted), mapped
//           to u = (v + R) / step in [0, 2^k - 1] and rounded stochastically
//           (unbiased: up with probability frac(u), privacy/conditional_rounding.h
//           without a norm condition). The integers are what the secure sum adds.
//   server: the sum S of n clients' integers, each in [0, 2^k - 1], is below
//           n (2^k - 1) < 2^bits, so it never wraps; S * step - n R is the sum of
//           the rotated coordinates, unrotated block by block.
// After rotation a coordinate of a vector of norm c has variance about c^2 / d,
// so R = range_sigmas * clip_norm / sqrt(d) clips rarely: with the update at
// the clip norm, a coordinate beyond R is a range_sigmas-sigma event.
// Error: stochastic rounding adds at most step^2 / 4 variance per rotated
// coordinate per client, independently, and the rotation is orthonormal, so
// E ||decoded mean - clipped mean||^2 <= encoded_dim * step^2 / (4 n) when no
// coordinate was clipped after rotation (MeanSquaredErrorBound).
//
// Both sides plan from the task alone (RotatedQuantizationPlanOfTask): the
// laptop checks the round's ring against its own plan and never takes the
// coordinator's figures.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "privacy/random_bits.h"
#include "task/task_config.h"

namespace tacit {

// Largest rotation block (a power of two): a bigger block mixes more
// coordinates but pads more; 2^16 keeps the rotation cache-friendly.
constexpr size_t kMaxRotationBlock = size_t{1} << 16;
// Smallest block: the tail of the vector is padded up to a multiple of this.
constexpr size_t kMinRotationBlock = 256;

// The power-of-two blocks a vector of `dim` coordinates is rotated in: full
// kMaxRotationBlock blocks, then the rest rounded up to a multiple of
// kMinRotationBlock and cut into decreasing powers of two. Their sum is the
// encoded length (at most dim + kMinRotationBlock - 1).
std::vector<size_t> RotationBlocks(size_t dim);

struct RotatedQuantizationPlan {
  int bits_per_coordinate = 0;  // k: levels 0 .. 2^k - 1
  int bits = 0;                 // the ring: the sum of max_clients integers cannot wrap
  int64_t max_clients = 0;      // most updates one sum can hold
  size_t dim = 0;               // model coordinates
  std::vector<size_t> blocks;   // RotationBlocks(dim)
  size_t encoded_dim = 0;       // sum of blocks
  double range = 0;             // R: rotated coordinates are clipped to [-R, R]
  double clip_norm = 0;         // dp.clip_norm: every honest update's L2 norm bound

  double Levels() const { return static_cast<double>((uint64_t{1} << bits_per_coordinate) - 1); }
  double Step() const { return 2 * range / Levels(); }
  // E ||decoded mean - mean||^2 bound for `clients` in the sum (no clipping
  // after rotation): encoded_dim * step^2 / (4 * clients).
  double MeanSquaredErrorBound(int64_t clients) const;
};

// The smallest ring for k-bit integers of `max_clients` clients: the fewest
// bits that hold (2^k - 1) * max_clients, so the sum never wraps. At most
// k + ceil(log2(max_clients)) (Suresh et al.'s count), one bit fewer when the
// cohort is a little above a power of two.
int CompressedRingBits(int bits_per_coordinate, int64_t max_clients);

// The plan a task with secure_agg.compression "rotated_quantization" implies
// for a model of `model_length` coordinates. The ring is the task's explicit
// secure_agg.bits, else the smallest that holds both the compressed sum and
// the fixed-point evaluation counts and weight (task/ring_bits.h).
// InvalidArgument when the task does not compress.
absl::StatusOr<RotatedQuantizationPlan> RotatedQuantizationPlanOfTask(const TaskConfig& task,
                                                                      int64_t model_length);

struct QuantizedUpdate {
  std::vector<uint64_t> levels;  // encoded_dim integers in [0, 2^k - 1]
  int64_t clipped = 0;           // rotated coordinates that were beyond [-R, R]
};

// One client's encoding of its clipped model delta (plan.dim values).
// Rotation signs from `rotation_seed` (public), rounding from `draws`.
absl::StatusOr<QuantizedUpdate> QuantizeRotated(absl::Span<const double> update,
                                                const RotatedQuantizationPlan& plan,
                                                uint64_t rotation_seed,
                                                privacy::RandomDraws& draws);

// The server's decoding: `level_sums` (encoded_dim residues mod 2^bits, the
// coordinate-wise sum of `clients` encodings) -> the sum of their rotated,
// clipped updates unrotated, plan.dim values (divide by clients for the
// mean). DataLoss when a sum is beyond what honest encodings reach (a
// crafted input: the round must be abandoned): a coordinate beyond
// clients * (2^k - 1), or a sum whose L2 norm exceeds HonestSumNormBound.
// The per-coordinate ceiling alone lets one client send R in every rotated
// coordinate, a vector of norm range_sigmas * clip_norm * sqrt(encoded/dim).
// The largest L2 norm the decoded sum of `clients` honest encodings reaches
// except with probability about exp(-32): each clipped update has norm at
// most clip_norm (clipping after rotation only shrinks it), and stochastic
// rounding adds independent zero-mean errors within one step per rotated
// coordinate (sub-Gaussian with parameter step / 2), so the clients' errors
// sum to a vector of norm at most sqrt(clients) * step / 2 * (sqrt(encoded) + 8).
double HonestSumNormBound(const RotatedQuantizationPlan& plan, int64_t clients);

absl::StatusOr<std::vector<double>> DecodeRotatedSum(absl::Span<const uint64_t> level_sums,
                                                     const RotatedQuantizationPlan& plan,
                                                     uint64_t rotation_seed, int64_t clients);

}  // namespace tacit
