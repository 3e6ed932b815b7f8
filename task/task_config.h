#pragma once

// A federated training task as the operator writes it (JSON). Every key, its
// default and its range is documented in docs/coordinator.md; ParseTaskConfig
// rejects unknown keys, wrong types and out-of-range values by key name.
// The task is the contract between the coordinator and every laptop, so it
// lives below both (task/); on the wire it travels as tacit.v1.Task
// (task_proto.h), checked with these same rules.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit {

struct TaskModelConfig {
  std::string name;  // required; a model name models/ knows
  nlohmann::json hyperparameters = nlohmann::json::object();  // passed to models/ unchanged
};

struct VocabConfig {
  int64_t size = 65536;  // hashed vocabulary size (token 0 is padding)
  std::string salt;      // required; the fleet-wide hashing salt
};

struct CohortConfig {
  int size = 100;               // clients whose updates a round aims to sum
  double over_selection = 1.3;  // select ceil(size * over_selection) at check-in
  int min_survivors = 0;        // 0 = auto: ceil(2/3 * size)
};

// Seconds allowed for each phase of a round.
struct PhaseDeadlines {
  double check_in = 60;
  double download_train = 900;
  double advertise = 30;
  double share_keys = 30;
  double masked_input = 120;
  double unmasking = 30;
};

// secure_agg.compression: how the model delta is encoded into the secure sum
// (task/rotated_quantization.h, docs/secure_aggregation.md "Compression").
//   kNone                 each coordinate in the fixed point of secure_agg.bits;
//   kRotatedQuantization  blockwise randomized Hadamard rotation, then
//                         bits_per_coordinate-bit stochastic quantization on
//                         [-R, R], R = range_sigmas * dp.clip_norm / sqrt(d).
enum class CompressionType { kNone, kRotatedQuantization };

struct CompressionConfig {
  CompressionType type = CompressionType::kNone;
  int bits_per_coordinate = 8;  // k, 1..24
  double range_sigmas = 4.0;    // R in units of clip_norm / sqrt(d)
};

struct SecureAggConfig {
  // Bits of the ring each coordinate is summed in; 0 = auto: the smallest ring
  // the sum cannot wrap in, planned from the cohort, clip and quantization
  // (task/ring_bits.h).
  int bits = 0;
  double clip_range = 1.0;  // coordinates clipped to [-clip_range, clip_range] before quantizing
  int neighbors = 0;        // SecAgg+ graph degree; 0 = auto (complete graph for small cohorts)
  int threshold = 0;        // Shamir threshold; 0 = auto
  CompressionConfig compression;
};

// How laptops come to be in a round, which decides the sampling rate q the
// privacy accounting may use (docs/federation.md, "Random check-ins"):
//   kNone           the coordinator seats the first eligible laptops to check
//                   in. That selection is not random, so no amplification by
//                   sampling: every round is accounted with q = 1.
//   kRandomCheckIn  each eligible laptop flips its own coin (OS CSPRNG), once
//                   per check-in window, and offers itself only when it comes
//                   up with probability check_in_probability; at most one round
//                   per window. Enforced by the laptop, so q = that probability
//                   (Balle et al. 2020, "Privacy amplification via random
//                   check-ins").
enum class DpSampling { kNone, kRandomCheckIn };

// How each laptop's noise share enters the secure sum (docs/privacy_math.md):
//   kDiscreteGaussian    the distributed discrete Gaussian (Kairouz, Liu,
//                        Steinke 2021): rotate, scale, round conditionally,
//                        add exact integer noise, sum modulo 2^bits. The
//                        sum is at least as private as the Gaussian
//                        mechanism at noise_multiplier at every RDP order;
//                        a formal guarantee. The default.
//   kContinuousGaussian  floating-point Gaussian shares, then the fixed-point
//                        quantization: rounding and wrap are data dependent,
//                        so its epsilon is an approximation, not a
//                        guarantee. Kept for comparisons only.
enum class DpMechanism { kDiscreteGaussian, kContinuousGaussian };

struct DpConfig {
  double clip_norm = 1.0;         // L2 bound of one client's update
  double noise_multiplier = 0.0;  // z; 0 disables distributed DP noise
  double delta = 1e-5;            // target delta for the reported epsilon
  DpSampling sampling = DpSampling::kNone;
  DpMechanism mechanism = DpMechanism::kDiscreteGaussian;
  double check_in_probability = 1.0;      // p; exactly 1 unless sampling is random_check_in
  double check_in_window_seconds = 3600;  // the window one coin decides (random_check_in)

  // The sampling rate every round is accounted with: p with random
  // check-ins, 1 otherwise. The coordinator and the laptop's ledger both use it.
  double AccountedSamplingRate() const;
};

enum class ServerOptimizerType { kFedAvg, kFedAvgM, kFedAdam };

struct ServerOptimizerConfig {
  ServerOptimizerType type = ServerOptimizerType::kFedAvg;
  double lr = 1.0;        // server learning rate (eta)
  double momentum = 0.9;  // FedAvgM beta
  double beta1 = 0.9;     // FedAdam first-moment decay
  double beta2 = 0.99;    // FedAdam second-moment decay
  double epsilon = 1e-3;  // FedAdam adaptivity tau
  // The server learning rate halves every this many applied rounds,
  // continuously: lr * 2^(-rounds / half_life). 0 keeps it constant.
  double lr_half_life_rounds = 0.0;
};

// How the secure sum weighs each client's update. The production default
// weighs every client 1; weighting by examples (FedAvg's n_k) is an option of
// production too, capped at max_weight, and refused with DP noise on (a
// client's weight would scale its contribution past the clip norm the noise
// is calibrated to). The weight travels inside the masked vector: the
// coordinator learns only the cohort's total.
enum class Weighting { kUniform, kExamples };

struct AggregationConfig {
  Weighting weighting = Weighting::kUniform;
  double max_weight = 1.0;  // a client's weight cap; exactly 1 when uniform
};

struct LocalTrainingConfig {
  int epochs = 1;
  int batch_size = 32;
  double lr = 0.05;
  std::string optimizer = "sgd";  // sgd | adam (the trainer has no other)
  double fedprox_mu = 0.0;        // FedProx proximal term; 0 = plain FedAvg local steps
  double max_seconds = 600;       // wall-clock budget for local training
  // Tokens between the starts of consecutive training windows; 0 = the model's
  // window (no overlap). Half the window makes every token a target twice per
  // epoch, once with a long context as evaluation sees it (docs/model.md).
  int window_stride = 0;
};

struct EligibilityConfig {
  bool require_ac_power = true;
  int min_idle_minutes = 10;
  bool unmetered_only = true;
  int min_battery_percent = 50;
  // Local hours [start, end) in which training may run; start > end wraps
  // past midnight (22 -> 6); 0 -> 24 is all day.
  int allowed_hours_start = 0;
  int allowed_hours_end = 24;
};

// Federated evaluation: each selected client scores the model it downloaded on
// its own held-out tokens and adds its counts to the masked sum
// (task/federated_evaluation.h).
struct EvaluationConfig {
  bool enabled = true;
  int max_predictions = 2048;  // held-out tokens one client scores at most (its newest)
};

// Personal models: after a round, a laptop fine-tunes the global model it
// downloaded on its own training tokens for `steps` optimizer steps (the
// task's local optimizer, batch and stride, at `lr`) and keeps the result
// in its state folder for on-device prediction (`tacit-client predict`).
// Nothing of it is sent; the owner can refuse it (participation policy
// `personal_model`). steps 0 = off.
struct PersonalizationConfig {
  int steps = 0;
  double lr = 0.05;
  bool enabled() const { return steps > 0; }
};

struct TaskConfig {
  std::string name;  // required
  TaskModelConfig model;
  VocabConfig vocab;
  int rounds = 10;
  CohortConfig cohort;
  PhaseDeadlines deadlines;
  SecureAggConfig secure_agg;
  AggregationConfig aggregation;
  DpConfig dp;
  ServerOptimizerConfig server_optimizer;
  LocalTrainingConfig training;
  EligibilityConfig eligibility;
  EvaluationConfig evaluation;
  PersonalizationConfig personalization;

  // Clients selected at check-in: ceil(cohort.size * cohort.over_selection).
  int SelectedPerRound() const;
};

// Validates and reads a task config. The error names the offending key, with
// `key_prefix` in front when the task sits inside a bigger config (tacit-sim's
// experiment: "task" gives "config key 'task.cohort.size' ...").
absl::StatusOr<TaskConfig> ParseTaskConfig(const nlohmann::json& json,
                                           const std::string& key_prefix = "");

// Reads a JSON file and parses it; syntax errors carry the byte offset.
absl::StatusOr<TaskConfig> LoadTaskConfigFile(const std::string& path);

// The config written back as JSON with every default filled in (stored with
// the task so a restart uses exactly what the first run used).
nlohmann::json TaskConfigToJson(const TaskConfig& config);

const char* ServerOptimizerName(ServerOptimizerType type);
const char* WeightingName(Weighting weighting);   // "uniform" | "examples"
const char* DpSamplingName(DpSampling sampling);  // "none" | "random_check_in"
// "discrete_gaussian" | "continuous_gaussian"
const char* DpMechanismName(DpMechanism mechanism);
// "none" | "rotated_quantization"
const char* CompressionTypeName(CompressionType type);

}  // namespace tacit
