#include "task/task_proto.h"

#include "absl/strings/str_cat.h"
#include "common/json_parse.h"
#include "nlohmann/json.hpp"

namespace tacit {
namespace {

std::string KeyPath(const std::string& key_prefix, const std::string& key) {
  return key_prefix.empty() ? key : absl::StrCat(key_prefix, ".", key);
}

// The message as the JSON object ParseTaskConfig reads, every key present, so
// the one parser checks both forms. A proto3 field has no "absent": zero
// values are passed on and checked like any other value.
absl::StatusOr<nlohmann::json> ToJson(const v1::Task& t, const std::string& key_prefix) {
  struct Section {
    const char* key;
    bool present;
  };
  for (const Section& s :
       {Section{"model", t.has_model()}, Section{"vocab", t.has_vocab()},
        Section{"cohort", t.has_cohort()}, Section{"deadlines", t.has_deadlines()},
        Section{"secure_agg", t.has_secure_agg()}, Section{"dp", t.has_dp()},
        Section{"server_optimizer", t.has_server_optimizer()},
        Section{"training", t.has_training()}, Section{"eligibility", t.has_eligibility()},
        Section{"evaluation", t.has_evaluation()}, Section{"aggregation", t.has_aggregation()},
        Section{"personalization", t.has_personalization()}}) {
    if (!s.present) {
      return absl::InvalidArgumentError(
          absl::StrCat("task section '", KeyPath(key_prefix, s.key),
                       "' is missing from the Task message; the coordinator sends every section "
                       "(is it an older or broken build?)"));
    }
  }
  // From the coordinator: parsed with the depth limit, a lying coordinator
  // must not crash the laptop with a number overflow or a deep document.
  absl::StatusOr<nlohmann::json> hyperparameters =
      ParseJson(t.model().hyperparameters_json(),
                absl::StrCat("config key '", KeyPath(key_prefix, "model.hyperparameters"),
                             "' (Task.model.hyperparameters_json, must hold a JSON object)"));
  if (!hyperparameters.ok()) return hyperparameters.status();
  const auto& d = t.deadlines();
  const auto& s = t.secure_agg();
  const auto& o = t.server_optimizer();
  const auto& tr = t.training();
  const auto& e = t.eligibility();
  return nlohmann::json{
      {"name", t.name()},
      {"model", {{"name", t.model().name()}, {"hyperparameters", *std::move(hyperparameters)}}},
      {"vocab", {{"size", t.vocab().size()}, {"salt", t.vocab().salt()}}},
      {"rounds", t.rounds()},
      {"cohort",
       {{"size", t.cohort().size()},
        {"over_selection", t.cohort().over_selection()},
        {"min_survivors", t.cohort().min_survivors()}}},
      {"deadlines",
       {{"check_in", d.check_in()},
        {"download_train", d.download_train()},
        {"advertise", d.advertise()},
        {"share_keys", d.share_keys()},
        {"masked_input", d.masked_input()},
        {"unmasking", d.unmasking()}}},
      {"secure_agg",
       {{"bits", s.bits()},
        {"clip_range", s.clip_range()},
        {"neighbors", s.neighbors()},
        {"threshold", s.threshold()},
        {"compression",
         {{"type", s.compression().type()},
          {"bits_per_coordinate", s.compression().bits_per_coordinate()},
          {"range_sigmas", s.compression().range_sigmas()}}}}},
      {"aggregation",
       {{"weighting", t.aggregation().weighting()}, {"max_weight", t.aggregation().max_weight()}}},
      {"dp",
       {{"clip_norm", t.dp().clip_norm()},
        {"noise_multiplier", t.dp().noise_multiplier()},
        {"delta", t.dp().delta()},
        {"sampling", t.dp().sampling()},
        {"mechanism", t.dp().mechanism()},
        {"check_in_probability", t.dp().check_in_probability()},
        {"check_in_window_seconds", t.dp().check_in_window_seconds()}}},
      {"server_optimizer",
       {{"type", o.type()},
        {"lr", o.lr()},
        {"momentum", o.momentum()},
        {"beta1", o.beta1()},
        {"beta2", o.beta2()},
        {"epsilon", o.epsilon()},
        {"lr_half_life_rounds", o.lr_half_life_rounds()}}},
      {"training",
       {{"epochs", tr.epochs()},
        {"batch_size", tr.batch_size()},
        {"lr", tr.lr()},
        {"optimizer", tr.optimizer()},
        {"fedprox_mu", tr.fedprox_mu()},
        {"max_seconds", tr.max_seconds()},
        {"window_stride", tr.window_stride()}}},
      {"eligibility",
       {{"require_ac_power", e.require_ac_power()},
        {"min_idle_minutes", e.min_idle_minutes()},
        {"unmetered_only", e.unmetered_only()},
        {"min_battery_percent", e.min_battery_percent()},
        {"allowed_hours", {{"start", e.allowed_hours_start()}, {"end", e.allowed_hours_end()}}}}},
      {"evaluation",
       {{"enabled", t.evaluation().enabled()},
        {"max_predictions", t.evaluation().max_predictions()}}},
      {"personalization",
       {{"steps", t.personalization().steps()}, {"lr", t.personalization().lr()}}},
  };
}

}  // namespace

v1::Task TaskToProto(const TaskConfig& c) {
  v1::Task t;
  t.set_name(c.name);
  t.mutable_model()->set_name(c.model.name);
  t.mutable_model()->set_hyperparameters_json(c.model.hyperparameters.dump());
  t.mutable_vocab()->set_size(c.vocab.size);
  t.mutable_vocab()->set_salt(c.vocab.salt);
  t.set_rounds(c.rounds);
  v1::Task::Cohort* cohort = t.mutable_cohort();
  cohort->set_size(c.cohort.size);
  cohort->set_over_selection(c.cohort.over_selection);
  cohort->set_min_survivors(c.cohort.min_survivors);
  v1::Task::Deadlines* d = t.mutable_deadlines();
  d->set_check_in(c.deadlines.check_in);
  d->set_download_train(c.deadlines.download_train);
  d->set_advertise(c.deadlines.advertise);
  d->set_share_keys(c.deadlines.share_keys);
  d->set_masked_input(c.deadlines.masked_input);
  d->set_unmasking(c.deadlines.unmasking);
  v1::Task::SecureAgg* s = t.mutable_secure_agg();
  s->set_bits(c.secure_agg.bits);
  s->set_clip_range(c.secure_agg.clip_range);
  s->set_neighbors(c.secure_agg.neighbors);
  s->set_threshold(c.secure_agg.threshold);
  v1::Task::SecureAgg::Compression* compression = s->mutable_compression();
  compression->set_type(CompressionTypeName(c.secure_agg.compression.type));
  compression->set_bits_per_coordinate(c.secure_agg.compression.bits_per_coordinate);
  compression->set_range_sigmas(c.secure_agg.compression.range_sigmas);
  t.mutable_aggregation()->set_weighting(WeightingName(c.aggregation.weighting));
  t.mutable_aggregation()->set_max_weight(c.aggregation.max_weight);
  v1::Task::Dp* dp = t.mutable_dp();
  dp->set_clip_norm(c.dp.clip_norm);
  dp->set_noise_multiplier(c.dp.noise_multiplier);
  dp->set_delta(c.dp.delta);
  dp->set_sampling(DpSamplingName(c.dp.sampling));
  dp->set_mechanism(DpMechanismName(c.dp.mechanism));
  dp->set_check_in_probability(c.dp.check_in_probability);
  dp->set_check_in_window_seconds(c.dp.check_in_window_seconds);
  v1::Task::ServerOptimizer* o = t.mutable_server_optimizer();
  o->set_type(ServerOptimizerName(c.server_optimizer.type));
  o->set_lr(c.server_optimizer.lr);
  o->set_momentum(c.server_optimizer.momentum);
  o->set_beta1(c.server_optimizer.beta1);
  o->set_beta2(c.server_optimizer.beta2);
  o->set_epsilon(c.server_optimizer.epsilon);
  o->set_lr_half_life_rounds(c.server_optimizer.lr_half_life_rounds);
  v1::Task::Training* tr = t.mutable_training();
  tr->set_epochs(c.training.epochs);
  tr->set_batch_size(c.training.batch_size);
  tr->set_lr(c.training.lr);
  tr->set_optimizer(c.training.optimizer);
  tr->set_fedprox_mu(c.training.fedprox_mu);
  tr->set_max_seconds(c.training.max_seconds);
  tr->set_window_stride(c.training.window_stride);
  v1::Task::Eligibility* e = t.mutable_eligibility();
  e->set_require_ac_power(c.eligibility.require_ac_power);
  e->set_min_idle_minutes(c.eligibility.min_idle_minutes);
  e->set_unmetered_only(c.eligibility.unmetered_only);
  e->set_min_battery_percent(c.eligibility.min_battery_percent);
  e->set_allowed_hours_start(c.eligibility.allowed_hours_start);
  e->set_allowed_hours_end(c.eligibility.allowed_hours_end);
  t.mutable_evaluation()->set_enabled(c.evaluation.enabled);
  t.mutable_evaluation()->set_max_predictions(c.evaluation.max_predictions);
  t.mutable_personalization()->set_steps(c.personalization.steps);
  t.mutable_personalization()->set_lr(c.personalization.lr);
  return t;
}

absl::StatusOr<TaskConfig> TaskFromProto(const v1::Task& task, const std::string& key_prefix) {
  absl::StatusOr<nlohmann::json> json = ToJson(task, key_prefix);
  if (!json.ok()) return json.status();
  return ParseTaskConfig(*json, key_prefix);
}

}  // namespace tacit
