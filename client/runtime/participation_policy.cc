#include "client/runtime/participation_policy.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/dp_noise.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "task/ddg_task.h"

namespace tacit::runtime {
namespace {

using nlohmann::json;

absl::Status Refuse(absl::string_view what, int64_t value, absl::string_view key, int64_t floor) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, " is ", value, ", below this laptop's ", key, " of ", floor, " (",
                   kParticipationPolicyFile, "); nothing was sent"));
}

// The privacy budget's two numbers: max_epsilon (> 0, or null for none) and
// delta (in (0, 1e-3]: a larger delta is no meaningful guarantee).
absl::Status ReadBudgetKey(absl::string_view source, const std::string& name, const json& value,
                           ParticipationPolicy& policy) {
  if (name == "max_epsilon") {
    if (value.is_null()) {
      policy.max_epsilon.reset();
      return absl::OkStatus();
    }
    if (!value.is_number() || !(value.get<double>() > 0) || value.get<double>() > 1e6) {
      return absl::InvalidArgumentError(
          absl::StrCat(source,
                       ": key 'max_epsilon' must be a number above 0 (at most 1e6), or null for no "
                       "privacy budget; got ",
                       value.dump()));
    }
    policy.max_epsilon = value.get<double>();
    return absl::OkStatus();
  }
  if (!value.is_number() || !(value.get<double>() > 0) || value.get<double>() > 1e-3) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": key 'delta' must be a number above 0 and at most 1e-3 (the "
                     "delta this laptop's epsilon is computed at); got ",
                     value.dump()));
  }
  policy.delta = value.get<double>();
  return absl::OkStatus();
}

}  // namespace

nlohmann::json ParticipationPolicyToJson(const ParticipationPolicy& p) {
  return {{"min_cohort_size", p.min_cohort_size},
          {"min_secagg_threshold", p.min_secagg_threshold},
          {"min_survivors", p.min_survivors},
          {"max_rounds_per_day", p.max_rounds_per_day},
          {"max_epsilon", p.max_epsilon ? json(*p.max_epsilon) : json(nullptr)},
          {"delta", p.delta},
          {"personal_model", p.personal_model}};
}

std::string DefaultParticipationPolicyJson() {
  return ParticipationPolicyToJson(ParticipationPolicy{}).dump(2) + "\n";
}

absl::StatusOr<ParticipationPolicy> ParseParticipationPolicyJson(absl::string_view text,
                                                                 absl::string_view source) {
  absl::StatusOr<json> parsed = ParseJson(text, source);
  if (!parsed.ok() || !parsed->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(parsed.ok() ? absl::StrCat(source, " is not a JSON object")
                                 : std::string(parsed.status().message()),
                     "; start from the defaults:\n", DefaultParticipationPolicyJson()));
  }
  const json& doc = *parsed;
  ParticipationPolicy policy;
  struct Key {
    const char* name;
    int* field;
    int min;
  };
  const Key keys[] = {{"min_cohort_size", &policy.min_cohort_size, 2},
                      {"min_secagg_threshold", &policy.min_secagg_threshold, 2},
                      {"min_survivors", &policy.min_survivors, 2},
                      {"max_rounds_per_day", &policy.max_rounds_per_day, 0}};
  for (const auto& [name, value] : doc.items()) {
    if (name == "max_epsilon" || name == "delta") {
      TACIT_RETURN_IF_ERROR(ReadBudgetKey(source, name, value, policy));
      continue;
    }
    if (name == "personal_model") {
      if (!value.is_boolean()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": key 'personal_model' must be true or false"));
      }
      policy.personal_model = value.get<bool>();
      continue;
    }
    const Key* key = std::find_if(std::begin(keys), std::end(keys),
                                  [&name = name](const Key& k) { return name == k.name; });
    if (key == std::end(keys)) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": unknown key '", name,
                       "'; the keys are min_cohort_size, min_secagg_threshold, min_survivors, "
                       "max_rounds_per_day, max_epsilon, delta, personal_model"));
    }
    if (!value.is_number_integer() || value.get<int64_t>() < key->min ||
        value.get<int64_t>() > 1000000) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": key '", name, "' must be an integer from ", key->min, " to 1000000"));
    }
    *key->field = value.get<int>();
  }
  return policy;
}

absl::StatusOr<ParticipationPolicy> LoadParticipationPolicy(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kParticipationPolicyFile);
  if (!std::filesystem::exists(path)) return ParticipationPolicy{};
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseParticipationPolicyJson(text, path);
}

absl::Status WriteDefaultParticipationPolicy(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kParticipationPolicyFile);
  if (std::filesystem::exists(path)) return absl::OkStatus();
  return WriteFileAtomically(path, DefaultParticipationPolicyJson(), 0600);
}

absl::Status CheckTaskAgainstPolicy(const ParticipationPolicy& policy, const TaskConfig& task) {
  if (task.cohort.size < policy.min_cohort_size) {
    return Refuse("the task's cohort.size", task.cohort.size, "min_cohort_size",
                  policy.min_cohort_size);
  }
  // The survivors the coordinator promises: the DP noise share is computed
  // for them, and fewer is a smaller crowd to hide in.
  if (task.cohort.min_survivors < policy.min_survivors) {
    return Refuse("the task's cohort.min_survivors", task.cohort.min_survivors, "min_survivors",
                  policy.min_survivors);
  }
  // 0 is "auto": the round-start parameters carry the threshold chosen.
  if (task.secure_agg.threshold > 0 && task.secure_agg.threshold < policy.min_secagg_threshold) {
    return Refuse("the task's secure_agg.threshold", task.secure_agg.threshold,
                  "min_secagg_threshold", policy.min_secagg_threshold);
  }
  return absl::OkStatus();
}

absl::Status CheckRoundAgainstPolicy(const ParticipationPolicy& policy,
                                     const v1::SecAggRoundParameters& parameters) {
  if (parameters.cohort_size() < static_cast<uint32_t>(policy.min_cohort_size)) {
    return Refuse("the round's secure aggregation cohort", parameters.cohort_size(),
                  "min_cohort_size", policy.min_cohort_size);
  }
  if (parameters.threshold() < static_cast<uint32_t>(policy.min_secagg_threshold)) {
    return Refuse("the round's secure aggregation threshold", parameters.threshold(),
                  "min_secagg_threshold", policy.min_secagg_threshold);
  }
  return absl::OkStatus();
}

absl::StatusOr<double> OwnNoiseStddev(const ParticipationPolicy& policy, const TaskConfig& task) {
  // The discrete Gaussian's noise is planned by the laptop from the task
  // when it encodes (task/ddg_task.h); no continuous share then.
  if (task.dp.noise_multiplier == 0 || UsesDiscreteGaussian(task)) return 0.0;
  return PerClientNoiseStddev(task.dp.noise_multiplier, task.dp.clip_norm,
                              std::max(task.cohort.min_survivors, policy.min_survivors));
}

absl::Status CheckAssignedNoise(double own, double assigned) {
  // The coordinator computes the same formula; a relative 1e-9 absorbs a
  // differently ordered but equal computation, never a lowered share.
  if (!(assigned >= own * (1 - 1e-9))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the coordinator assigned a DP noise share of ", assigned, ", below this laptop's own ",
        own, " (the task's noise_multiplier and clip_norm over max(cohort.min_survivors, ",
        kParticipationPolicyFile, " min_survivors)); nothing was sent"));
  }
  return absl::OkStatus();
}

}  // namespace tacit::runtime
