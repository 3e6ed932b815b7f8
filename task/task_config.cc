#include "task/task_config.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "task/json_fields.h"
#include "task/ring_bits.h"
#include "task/rotated_quantization.h"

namespace tacit {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr Bounds kPositive{0, kInf, /*low_open=*/true};
constexpr Bounds kNonNegative{0, kInf};
constexpr Bounds kUnitOpen{0, 1, true, true};       // (0, 1)
constexpr Bounds kUnitHalfOpen{0, 1, false, true};  // [0, 1)
constexpr int kMaxCohort = 1'000'000;

absl::Status ReadModel(JsonFields& root, TaskModelConfig& m) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("model"));
  TACIT_RETURN_IF_ERROR(f.NonEmptyString("name", &m.name, /*required=*/true));
  TACIT_RETURN_IF_ERROR(f.RawObject("hyperparameters", &m.hyperparameters));
  return f.RejectUnknownKeys();
}

absl::Status ReadVocab(JsonFields& root, VocabConfig& v) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("vocab"));
  TACIT_RETURN_IF_ERROR(f.Int("size", &v.size, 2, int64_t{1} << 24));
  TACIT_RETURN_IF_ERROR(f.NonEmptyString("salt", &v.salt, /*required=*/true));
  return f.RejectUnknownKeys();
}

absl::Status ReadCohort(JsonFields& root, CohortConfig& c) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("cohort"));
  TACIT_RETURN_IF_ERROR(f.Int("size", &c.size, 2, kMaxCohort));
  TACIT_RETURN_IF_ERROR(f.Double("over_selection", &c.over_selection, Bounds{1.0, 10.0}));
  TACIT_RETURN_IF_ERROR(f.Int("min_survivors", &c.min_survivors, 0, c.size));
  if (c.min_survivors == 0) {
    c.min_survivors = static_cast<int>(std::ceil(2.0 * c.size / 3.0));
  } else if (c.min_survivors < 2) {
    return absl::OutOfRangeError(
        absl::StrCat("config key '", f.KeyPath("min_survivors"), "' = ", c.min_survivors,
                     " is out of range: a sum of fewer than 2 updates reveals an update; use 0 "
                     "(auto) or a value between 2 and cohort.size"));
  }
  return f.RejectUnknownKeys();
}

absl::Status ReadDeadlines(JsonFields& root, PhaseDeadlines& d) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("deadlines"));
  constexpr Bounds kSeconds{0, 7 * 24 * 3600.0, true};
  TACIT_RETURN_IF_ERROR(f.Double("check_in", &d.check_in, kSeconds));
  TACIT_RETURN_IF_ERROR(f.Double("download_train", &d.download_train, kSeconds));
  TACIT_RETURN_IF_ERROR(f.Double("advertise", &d.advertise, kSeconds));
  TACIT_RETURN_IF_ERROR(f.Double("share_keys", &d.share_keys, kSeconds));
  TACIT_RETURN_IF_ERROR(f.Double("masked_input", &d.masked_input, kSeconds));
  TACIT_RETURN_IF_ERROR(f.Double("unmasking", &d.unmasking, kSeconds));
  return f.RejectUnknownKeys();
}

absl::Status ReadCompression(JsonFields& secure_agg, CompressionConfig& c) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, secure_agg.Object("compression"));
  std::string type = CompressionTypeName(c.type);
  TACIT_RETURN_IF_ERROR(f.Choice("type", &type, {"none", "rotated_quantization"}));
  c.type = type == "rotated_quantization" ? CompressionType::kRotatedQuantization
                                          : CompressionType::kNone;
  TACIT_RETURN_IF_ERROR(f.Int("bits_per_coordinate", &c.bits_per_coordinate, 1, 24));
  TACIT_RETURN_IF_ERROR(f.Double("range_sigmas", &c.range_sigmas, Bounds{0, 64, true}));
  return f.RejectUnknownKeys();
}

// Rotated quantization sums every client's integers with weight 1 and has no
// place for noise: the discrete Gaussian is the DP path (it rotates and
// quantizes itself), and weighting by examples would need the weight's bits
// on top of every coordinate. An explicit ring must hold the compressed sum.
absl::Status CheckCompression(const TaskConfig& c) {
  if (c.secure_agg.compression.type == CompressionType::kNone) return absl::OkStatus();
  if (c.aggregation.weighting != Weighting::kUniform) {
    return absl::InvalidArgumentError(
        "config key 'secure_agg.compression.type' = \"rotated_quantization\" needs "
        "aggregation.weighting \"uniform\" (every client's integers count once); remove "
        "the compression or weigh uniformly");
  }
  if (c.dp.noise_multiplier > 0) {
    return absl::InvalidArgumentError(
        "config key 'secure_agg.compression.type' = \"rotated_quantization\" cannot be used "
        "with dp.noise_multiplier > 0: the discrete Gaussian (dp.mechanism "
        "\"discrete_gaussian\") already rotates and quantizes; remove the compression");
  }
  if (c.secure_agg.bits == kAutoBits) return absl::OkStatus();
  TACIT_ASSIGN_OR_RETURN(int fixed_point_bits, FixedPointRingBits(c, 0));
  const int needed =
      std::max(CompressedRingBits(c.secure_agg.compression.bits_per_coordinate, MaxClientsInSum(c)),
               fixed_point_bits);
  if (c.secure_agg.bits < needed) {
    return absl::OutOfRangeError(
        absl::StrCat("config key 'secure_agg.bits' = ", c.secure_agg.bits, " is too small for ",
                     MaxClientsInSum(c), " clients' ", c.secure_agg.compression.bits_per_coordinate,
                     "-bit coordinates: use at least ", needed, " bits, or 0 (auto)"));
  }
  return absl::OkStatus();
}

absl::Status ReadSecureAgg(JsonFields& root, int cohort_size, int min_survivors,
                           SecureAggConfig& s) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("secure_agg"));
  TACIT_RETURN_IF_ERROR(f.Int("bits", &s.bits, kAutoBits, kMaxRingBits));
  if (s.bits != kAutoBits && s.bits < kMinRingBits) {
    return absl::OutOfRangeError(absl::StrCat("config key '", f.KeyPath("bits"), "' = ", s.bits,
                                              " is out of range: use 0 (auto, planned from the "
                                              "cohort) or ",
                                              kMinRingBits, " to ", kMaxRingBits));
  }
  TACIT_RETURN_IF_ERROR(ReadCompression(f, s.compression));
  TACIT_RETURN_IF_ERROR(f.Double("clip_range", &s.clip_range, kPositive));
  TACIT_RETURN_IF_ERROR(f.Int("neighbors", &s.neighbors, 0, cohort_size));
  if (s.neighbors == 1) {
    return absl::OutOfRangeError(
        absl::StrCat("config key '", f.KeyPath("neighbors"),
                     "' = 1 is out of range: use 0 (auto) or at least 2 neighbors per client"));
  }
  // Unmasking needs `threshold` survivors, so a threshold above the minimum
  // survivor count (or the SecAgg+ neighborhood) could abandon rounds the
  // cohort settings promise to keep; at most half of the group would let
  // colluding clients and server rebuild both masks of a client.
  const int group = s.neighbors > 0 ? s.neighbors : cohort_size;
  TACIT_RETURN_IF_ERROR(
      f.Int("threshold", &s.threshold, 0, s.neighbors > 0 ? s.neighbors : min_survivors));
  if (s.threshold != 0 && 2 * s.threshold <= group) {
    return absl::OutOfRangeError(
        absl::StrCat("config key '", f.KeyPath("threshold"), "' = ", s.threshold,
                     " is out of range: it must be 0 (auto) or more than half of ",
                     s.neighbors > 0 ? "secure_agg.neighbors (" : "cohort.size (", group,
                     ") so that colluding clients cannot help rebuild another client's masks"));
  }
  // The sum of cohort_size values in [-clip, clip] grows by log2(cohort_size)
  // bits; keep at least 8 bits of resolution per coordinate on top of that.
  // (Compressed tasks are checked against their quantization in
  // CheckCompression, once the whole task is read.)
  int needed_bits = static_cast<int>(std::ceil(std::log2(static_cast<double>(cohort_size)))) + 8;
  if (s.bits != kAutoBits && s.compression.type == CompressionType::kNone && s.bits < needed_bits) {
    return absl::OutOfRangeError(absl::StrCat("config key '", f.KeyPath("bits"), "' = ", s.bits,
                                              " is too small for cohort.size ", cohort_size,
                                              ": use at least ", needed_bits,
                                              " bits so the masked sum keeps 8 bits of "
                                              "resolution without wrapping"));
  }
  return f.RejectUnknownKeys();
}

absl::Status ReadDp(JsonFields& root, DpConfig& d) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("dp"));
  TACIT_RETURN_IF_ERROR(f.Double("clip_norm", &d.clip_norm, kPositive));
  TACIT_RETURN_IF_ERROR(f.Double("noise_multiplier", &d.noise_multiplier, Bounds{0, 100}));
  TACIT_RETURN_IF_ERROR(f.Double("delta", &d.delta, kUnitOpen));
  std::string sampling = DpSamplingName(d.sampling);
  TACIT_RETURN_IF_ERROR(f.Choice("sampling", &sampling, {"none", "random_check_in"}));
  d.sampling = sampling == "random_check_in" ? DpSampling::kRandomCheckIn : DpSampling::kNone;
  std::string mechanism = DpMechanismName(d.mechanism);
  TACIT_RETURN_IF_ERROR(
      f.Choice("mechanism", &mechanism, {"discrete_gaussian", "continuous_gaussian"}));
  d.mechanism = mechanism == "continuous_gaussian" ? DpMechanism::kContinuousGaussian
                                                   : DpMechanism::kDiscreteGaussian;
  TACIT_RETURN_IF_ERROR(
      f.Double("check_in_probability", &d.check_in_probability, Bounds{0, 1, true}));
  TACIT_RETURN_IF_ERROR(f.Double("check_in_window_seconds", &d.check_in_window_seconds,
                                 Bounds{1, 366 * 24 * 3600.0}));
  if (d.sampling == DpSampling::kNone && d.check_in_probability != 1.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key '", f.KeyPath("check_in_probability"), "' = ", d.check_in_probability,
        " has no effect with sampling \"none\" (the coordinator seats whoever checks in, so "
        "every round is accounted with q = 1): remove it, or set '",
        f.KeyPath("sampling"), "' to \"random_check_in\""));
  }
  return f.RejectUnknownKeys();
}

// Read after dp: weighting by examples is refused when DP noise is on.
absl::Status ReadAggregation(JsonFields& root, const DpConfig& dp, AggregationConfig& a) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("aggregation"));
  std::string weighting = WeightingName(a.weighting);
  TACIT_RETURN_IF_ERROR(f.Choice("weighting", &weighting, {"uniform", "examples"}));
  a.weighting = weighting == "examples" ? Weighting::kExamples : Weighting::kUniform;
  a.max_weight = a.weighting == Weighting::kExamples ? 10000.0 : 1.0;
  TACIT_RETURN_IF_ERROR(f.Double("max_weight", &a.max_weight, Bounds{1, 1e9}));
  if (a.weighting == Weighting::kUniform && a.max_weight != 1.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key '", f.KeyPath("max_weight"), "' = ", a.max_weight,
        " has no effect with uniform weighting (every client weighs 1): remove it, or set '",
        f.KeyPath("weighting"), "' to \"examples\""));
  }
  if (a.weighting == Weighting::kExamples && dp.noise_multiplier > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key '", f.KeyPath("weighting"),
        "' = \"examples\" cannot be used with dp.noise_multiplier > 0: a client's weight would "
        "scale its update past the clip norm the noise is calibrated to; use \"uniform\""));
  }
  return f.RejectUnknownKeys();
}

absl::Status ReadServerOptimizer(JsonFields& root, ServerOptimizerConfig& o) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("server_optimizer"));
  std::string type = ServerOptimizerName(o.type);
  TACIT_RETURN_IF_ERROR(f.Choice("type", &type, {"fedavg", "fedavgm", "fedadam"}));
  o.type = type == "fedavgm"   ? ServerOptimizerType::kFedAvgM
           : type == "fedadam" ? ServerOptimizerType::kFedAdam
                               : ServerOptimizerType::kFedAvg;
  TACIT_RETURN_IF_ERROR(f.Double("lr", &o.lr, kPositive));
  TACIT_RETURN_IF_ERROR(f.Double("momentum", &o.momentum, kUnitHalfOpen));
  TACIT_RETURN_IF_ERROR(f.Double("beta1", &o.beta1, kUnitHalfOpen));
  TACIT_RETURN_IF_ERROR(f.Double("beta2", &o.beta2, kUnitHalfOpen));
  TACIT_RETURN_IF_ERROR(f.Double("epsilon", &o.epsilon, kPositive));
  TACIT_RETURN_IF_ERROR(f.Double("lr_half_life_rounds", &o.lr_half_life_rounds, kNonNegative));
  return f.RejectUnknownKeys();
}

absl::Status ReadTraining(JsonFields& root, LocalTrainingConfig& t) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("training"));
  TACIT_RETURN_IF_ERROR(f.Int("epochs", &t.epochs, 1, 1000));
  TACIT_RETURN_IF_ERROR(f.Int("batch_size", &t.batch_size, 1, 1 << 16));
  TACIT_RETURN_IF_ERROR(f.Double("lr", &t.lr, kPositive));
  TACIT_RETURN_IF_ERROR(f.Choice("optimizer", &t.optimizer, {"sgd", "adam"}));
  TACIT_RETURN_IF_ERROR(f.Double("fedprox_mu", &t.fedprox_mu, kNonNegative));
  TACIT_RETURN_IF_ERROR(f.Double("max_seconds", &t.max_seconds, kPositive));
  TACIT_RETURN_IF_ERROR(f.Int("window_stride", &t.window_stride, 0, 1 << 16));
  return f.RejectUnknownKeys();
}

absl::Status ReadEligibility(JsonFields& root, EligibilityConfig& e) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("eligibility"));
  TACIT_RETURN_IF_ERROR(f.Bool("require_ac_power", &e.require_ac_power));
  TACIT_RETURN_IF_ERROR(f.Int("min_idle_minutes", &e.min_idle_minutes, 0, 24 * 60));
  TACIT_RETURN_IF_ERROR(f.Bool("unmetered_only", &e.unmetered_only));
  TACIT_RETURN_IF_ERROR(f.Int("min_battery_percent", &e.min_battery_percent, 0, 100));
  TACIT_ASSIGN_OR_RETURN(JsonFields hours, f.Object("allowed_hours"));
  TACIT_RETURN_IF_ERROR(hours.Int("start", &e.allowed_hours_start, 0, 23));
  TACIT_RETURN_IF_ERROR(hours.Int("end", &e.allowed_hours_end, 1, 24));
  if (e.allowed_hours_start == e.allowed_hours_end) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config keys '", hours.KeyPath("start"), "' and '", hours.KeyPath("end"), "' are equal (",
        e.allowed_hours_start, "), an empty window; use start 0 and end 24 for all day"));
  }
  TACIT_RETURN_IF_ERROR(hours.RejectUnknownKeys());
  return f.RejectUnknownKeys();
}

absl::Status ReadEvaluation(JsonFields& root, EvaluationConfig& e) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("evaluation"));
  TACIT_RETURN_IF_ERROR(f.Bool("enabled", &e.enabled));
  TACIT_RETURN_IF_ERROR(f.Int("max_predictions", &e.max_predictions, 1, 1 << 20));
  return f.RejectUnknownKeys();
}

absl::Status ReadPersonalization(JsonFields& root, PersonalizationConfig& p) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("personalization"));
  // A laptop spends these steps on battery after every round: bounded like
  // a few epochs of local training, not an open-ended job.
  TACIT_RETURN_IF_ERROR(f.Int("steps", &p.steps, 0, 10'000));
  TACIT_RETURN_IF_ERROR(f.Double("lr", &p.lr, kPositive));
  return f.RejectUnknownKeys();
}

}  // namespace

const char* ServerOptimizerName(ServerOptimizerType type) {
  switch (type) {
    case ServerOptimizerType::kFedAvgM:
      return "fedavgm";
    case ServerOptimizerType::kFedAdam:
      return "fedadam";
    case ServerOptimizerType::kFedAvg:
      break;
  }
  return "fedavg";
}

const char* WeightingName(Weighting weighting) {
  return weighting == Weighting::kExamples ? "examples" : "uniform";
}

const char* DpSamplingName(DpSampling sampling) {
  return sampling == DpSampling::kRandomCheckIn ? "random_check_in" : "none";
}

const char* CompressionTypeName(CompressionType type) {
  return type == CompressionType::kRotatedQuantization ? "rotated_quantization" : "none";
}

const char* DpMechanismName(DpMechanism mechanism) {
  return mechanism == DpMechanism::kContinuousGaussian ? "continuous_gaussian"
                                                       : "discrete_gaussian";
}

double DpConfig::AccountedSamplingRate() const {
  return sampling == DpSampling::kRandomCheckIn ? check_in_probability : 1.0;
}

int TaskConfig::SelectedPerRound() const {
  return static_cast<int>(std::ceil(cohort.size * cohort.over_selection - 1e-9));
}

absl::StatusOr<TaskConfig> ParseTaskConfig(const nlohmann::json& json,
                                           const std::string& key_prefix) {
  TaskConfig c;
  TACIT_ASSIGN_OR_RETURN(JsonFields root, JsonFields::Open(json, key_prefix));
  TACIT_RETURN_IF_ERROR(root.NonEmptyString("name", &c.name, /*required=*/true));
  TACIT_RETURN_IF_ERROR(ReadModel(root, c.model));
  TACIT_RETURN_IF_ERROR(ReadVocab(root, c.vocab));
  TACIT_RETURN_IF_ERROR(root.Int("rounds", &c.rounds, 1, 1'000'000));
  TACIT_RETURN_IF_ERROR(ReadCohort(root, c.cohort));
  TACIT_RETURN_IF_ERROR(ReadDeadlines(root, c.deadlines));
  TACIT_RETURN_IF_ERROR(ReadSecureAgg(root, c.cohort.size, c.cohort.min_survivors, c.secure_agg));
  TACIT_RETURN_IF_ERROR(ReadDp(root, c.dp));
  TACIT_RETURN_IF_ERROR(ReadAggregation(root, c.dp, c.aggregation));
  TACIT_RETURN_IF_ERROR(ReadServerOptimizer(root, c.server_optimizer));
  TACIT_RETURN_IF_ERROR(ReadTraining(root, c.training));
  TACIT_RETURN_IF_ERROR(ReadEligibility(root, c.eligibility));
  TACIT_RETURN_IF_ERROR(ReadEvaluation(root, c.evaluation));
  TACIT_RETURN_IF_ERROR(ReadPersonalization(root, c.personalization));
  TACIT_RETURN_IF_ERROR(root.RejectUnknownKeys());
  TACIT_RETURN_IF_ERROR(CheckCompression(c));
  return c;
}

absl::StatusOr<TaskConfig> LoadTaskConfigFile(const std::string& path) {
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  JsonParseOptions options;
  options.ignore_comments = true;  // task files are written by hand
  TACIT_ASSIGN_OR_RETURN(nlohmann::json json,
                         ParseJson(text, absl::StrCat("task config ", path), options));
  absl::StatusOr<TaskConfig> config = ParseTaskConfig(json);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

nlohmann::json TaskConfigToJson(const TaskConfig& c) {
  return {
      {"name", c.name},
      {"model", {{"name", c.model.name}, {"hyperparameters", c.model.hyperparameters}}},
      {"vocab", {{"size", c.vocab.size}, {"salt", c.vocab.salt}}},
      {"rounds", c.rounds},
      {"cohort",
       {{"size", c.cohort.size},
        {"over_selection", c.cohort.over_selection},
        {"min_survivors", c.cohort.min_survivors}}},
      {"deadlines",
       {{"check_in", c.deadlines.check_in},
        {"download_train", c.deadlines.download_train},
        {"advertise", c.deadlines.advertise},
        {"share_keys", c.deadlines.share_keys},
        {"masked_input", c.deadlines.masked_input},
        {"unmasking", c.deadlines.unmasking}}},
      {"secure_agg",
       {{"bits", c.secure_agg.bits},
        {"clip_range", c.secure_agg.clip_range},
        {"neighbors", c.secure_agg.neighbors},
        {"threshold", c.secure_agg.threshold},
        {"compression",
         {{"type", CompressionTypeName(c.secure_agg.compression.type)},
          {"bits_per_coordinate", c.secure_agg.compression.bits_per_coordinate},
          {"range_sigmas", c.secure_agg.compression.range_sigmas}}}}},
      {"aggregation",
       {{"weighting", WeightingName(c.aggregation.weighting)},
        {"max_weight", c.aggregation.max_weight}}},
      {"dp",
       {{"clip_norm", c.dp.clip_norm},
        {"noise_multiplier", c.dp.noise_multiplier},
        {"delta", c.dp.delta},
        {"sampling", DpSamplingName(c.dp.sampling)},
        {"mechanism", DpMechanismName(c.dp.mechanism)},
        {"check_in_probability", c.dp.check_in_probability},
        {"check_in_window_seconds", c.dp.check_in_window_seconds}}},
      {"server_optimizer",
       {{"type", ServerOptimizerName(c.server_optimizer.type)},
        {"lr", c.server_optimizer.lr},
        {"momentum", c.server_optimizer.momentum},
        {"beta1", c.server_optimizer.beta1},
        {"beta2", c.server_optimizer.beta2},
        {"epsilon", c.server_optimizer.epsilon},
        {"lr_half_life_rounds", c.server_optimizer.lr_half_life_rounds}}},
      {"training",
       {{"epochs", c.training.epochs},
        {"batch_size", c.training.batch_size},
        {"lr", c.training.lr},
        {"optimizer", c.training.optimizer},
        {"fedprox_mu", c.training.fedprox_mu},
        {"max_seconds", c.training.max_seconds},
        {"window_stride", c.training.window_stride}}},
      {"eligibility",
       {{"require_ac_power", c.eligibility.require_ac_power},
        {"min_idle_minutes", c.eligibility.min_idle_minutes},
        {"unmetered_only", c.eligibility.unmetered_only},
        {"min_battery_percent", c.eligibility.min_battery_percent},
        {"allowed_hours",
         {{"start", c.eligibility.allowed_hours_start},
          {"end", c.eligibility.allowed_hours_end}}}}},
      {"evaluation",
       {{"enabled", c.evaluation.enabled}, {"max_predictions", c.evaluation.max_predictions}}},
      {"personalization", {{"steps", c.personalization.steps}, {"lr", c.personalization.lr}}},
  };
}

}  // namespace tacit
