#include "simulations/federation/experiment_config.h"

#include <limits>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "task/json_fields.h"
#include "task/task_model.h"

namespace tacit::sim {
namespace {

constexpr Bounds kProbability{0, 1, false, true};  // [0, 1)
constexpr Bounds kUnitOpen{0, 1, true, true};      // (0, 1)
constexpr Bounds kShare{0, 1, true, false};        // (0, 1]

absl::Status ReadPopulation(JsonFields& root, PopulationSpec& p) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("population"));
  p.source = "generator";
  TACIT_RETURN_IF_ERROR(
      f.Choice("source", &p.source,
               {"generator", "sea-commands", "aalto-keystrokes", "balabit-mouse", "jsonl"}));
  TACIT_RETURN_IF_ERROR(f.String("path", &p.path));
  if (p.source != "generator" && p.path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("config key '", f.KeyPath("path"),
                                                   "' is required for source '", p.source,
                                                   "': the folder of per-person logs"));
  }
  p.people = p.source == "generator" ? 50 : 0;
  TACIT_RETURN_IF_ERROR(f.Int("people", &p.people, 0, 1'000'000));
  if (p.source == "generator" && p.people < 1) {
    return absl::OutOfRangeError(absl::StrCat("config key '", f.KeyPath("people"),
                                              "' must be at least 1 for the generator"));
  }
  TACIT_RETURN_IF_ERROR(f.Int("max_events_per_person", &p.max_events_per_person, 0, 100'000'000));
  TACIT_RETURN_IF_ERROR(f.Double("train_fraction", &p.train_fraction, kUnitOpen));
  std::string on_error = "stop";
  TACIT_RETURN_IF_ERROR(f.Choice("on_error", &on_error, {"stop", "skip"}));
  p.on_error = on_error == "skip" ? OnBadLine::kSkip : OnBadLine::kStop;
  return f.RejectUnknownKeys();
}

absl::Status ReadEvaluation(JsonFields& root, const TaskConfig& task, PersonalizationConfig& p) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("evaluation"));
  TACIT_ASSIGN_OR_RETURN(JsonFields personal, f.Object("personalization"));
  TACIT_RETURN_IF_ERROR(personal.Int("steps", &p.steps, 0, 100'000));
  p.lr = task.training.lr;
  TACIT_RETURN_IF_ERROR(personal.Double("lr", &p.lr, Bounds{0, 100, true, false}));
  TACIT_RETURN_IF_ERROR(personal.RejectUnknownKeys());
  return f.RejectUnknownKeys();
}

// `seeds`: a non-empty list of distinct non-negative integers.
absl::StatusOr<std::vector<uint64_t>> ReadSeeds(const nlohmann::json& value) {
  std::vector<uint64_t> seeds;
  if (!value.is_array() || value.empty()) {
    return absl::InvalidArgumentError(
        "config key 'seeds' must be a non-empty list of integers, e.g. [1, 2, 3]");
  }
  for (const nlohmann::json& seed : value) {
    if (!seed.is_number_integer() || seed.get<int64_t>() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("config key 'seeds' holds ", seed.dump(),
                                                     ": every seed is an integer >= 0"));
    }
    seeds.push_back(seed.get<uint64_t>());
  }
  if (std::set<uint64_t>(seeds.begin(), seeds.end()).size() != seeds.size()) {
    return absl::InvalidArgumentError(
        "config key 'seeds' lists a seed twice: replicates need distinct seeds");
  }
  return seeds;
}

absl::Status ReadBehaviour(JsonFields& root, ClientBehaviour& b) {
  TACIT_ASSIGN_OR_RETURN(JsonFields f, root.Object("behaviour"));
  TACIT_ASSIGN_OR_RETURN(JsonFields d, f.Object("dropout"));
  for (int i = 0; i < secagg::kPhaseCount; ++i) {
    TACIT_RETURN_IF_ERROR(d.Double(secagg::PhaseName(i), &b.dropout[i], kProbability));
  }
  TACIT_RETURN_IF_ERROR(d.RejectUnknownKeys());
  TACIT_RETURN_IF_ERROR(f.Double("straggler_rate", &b.straggler_rate, kProbability));
  TACIT_RETURN_IF_ERROR(f.Double("availability", &b.availability, kShare));
  return f.RejectUnknownKeys();
}

absl::StatusOr<TrainOptions> ResolveTraining(const TaskConfig& task) {
  TrainOptions t = TrainOptionsOfTask(task);
  t.threads = 1;  // a laptop client trains on one thread; the simulator runs many
  if (absl::Status s = t.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config key 'task.training': ", s.message()));
  }
  return t;
}

}  // namespace

absl::StatusOr<ExperimentConfig> ParseExperimentConfig(const nlohmann::json& given) {
  ExperimentConfig c;
  nlohmann::json json = given;
  if (json.is_object() && json.contains("seeds")) {
    TACIT_ASSIGN_OR_RETURN(c.seeds, ReadSeeds(json["seeds"]));
    json.erase("seeds");
  }
  TACIT_ASSIGN_OR_RETURN(JsonFields root, JsonFields::Open(json, ""));
  TACIT_RETURN_IF_ERROR(root.NonEmptyString("name", &c.name));
  int64_t seed = static_cast<int64_t>(c.seed);
  TACIT_RETURN_IF_ERROR(root.Int("seed", &seed, 0, std::numeric_limits<int64_t>::max()));
  c.seed = static_cast<uint64_t>(seed);
  TACIT_RETURN_IF_ERROR(ReadPopulation(root, c.population));

  nlohmann::json task_json;
  TACIT_RETURN_IF_ERROR(root.RawObject("task", &task_json));
  if (!json.contains("task")) {
    return absl::InvalidArgumentError(
        "config key 'task' is required: the coordinator task config (model, rounds, cohort, "
        "server optimizer, secure aggregation)");
  }
  TACIT_ASSIGN_OR_RETURN(c.task, ParseTaskConfig(task_json, "task"));
  c.max_weight_given = task_json.contains("aggregation") && task_json["aggregation"].is_object() &&
                       task_json["aggregation"].contains("max_weight");
  c.population.vocab_size = static_cast<uint32_t>(c.task.vocab.size);
  c.population.vocab_salt = c.task.vocab.salt;
  TACIT_ASSIGN_OR_RETURN(c.model, ResolveTaskModel(c.task, "task"));
  TACIT_ASSIGN_OR_RETURN(c.training, ResolveTraining(c.task));

  TACIT_ASSIGN_OR_RETURN(JsonFields sim, root.Object("simulation"));
  TACIT_RETURN_IF_ERROR(sim.Bool("secure_aggregation", &c.secure_aggregation));
  TACIT_RETURN_IF_ERROR(sim.Choice("transport", &c.transport, {"in_process", "grpc"}));
  const bool grpc = c.transport == "grpc";
  // Weighting is the coordinator's policy, the same in production and in
  // every transport: it lives in the task.
  for (const char* moved : {"weighting", "max_weight"}) {
    if (json.contains("simulation") && json["simulation"].is_object() &&
        json["simulation"].contains(moved)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config key 'simulation.", moved, "' moved to 'task.aggregation.", moved,
          "': weighting is the coordinator's policy, the same in production (\"uniform\", the "
          "default, or \"examples\" capped at max_weight)"));
    }
  }
  TACIT_RETURN_IF_ERROR(ReadBehaviour(sim, c.behaviour));
  TACIT_RETURN_IF_ERROR(sim.Int("workers", &c.workers, 0, 1024));
  TACIT_RETURN_IF_ERROR(sim.Int("eval_every", &c.eval_every, 1, 1'000'000));
  TACIT_RETURN_IF_ERROR(sim.Int("eval_people", &c.eval_people, 0, 100'000'000));
  TACIT_RETURN_IF_ERROR(sim.Int("max_attempts_per_round", &c.max_attempts_per_round, 1, 100));
  TACIT_RETURN_IF_ERROR(sim.RejectUnknownKeys());
  if (grpc && !c.secure_aggregation) {
    return absl::InvalidArgumentError(
        "config key 'simulation.secure_aggregation' = false is not possible with "
        "'simulation.transport' = \"grpc\": the production coordinator always aggregates "
        "securely; use the in_process transport for the plain-sum comparison");
  }

  TACIT_ASSIGN_OR_RETURN(JsonFields reference, root.Object("reference"));
  double top1 = -1;
  TACIT_RETURN_IF_ERROR(reference.Double("top1", &top1, Bounds{0, 1}));
  if (top1 >= 0) c.reference_top1 = top1;
  TACIT_RETURN_IF_ERROR(reference.NonEmptyString("label", &c.reference_label));
  TACIT_RETURN_IF_ERROR(reference.RejectUnknownKeys());
  TACIT_RETURN_IF_ERROR(ReadEvaluation(root, c.task, c.personalization));
  TACIT_RETURN_IF_ERROR(root.RejectUnknownKeys());
  if (c.eval_people > 0 && c.personalization.enabled()) {
    return absl::InvalidArgumentError(
        "config key 'simulation.eval_people' cannot go with 'evaluation.personalization': "
        "personal models are compared with the global model's score of every person; set "
        "eval_people to 0 (everyone) or leave personalization out");
  }
  return c;
}

absl::StatusOr<ExperimentConfig> LoadExperimentConfigFile(const std::string& path,
                                                          const std::string& transport) {
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  TACIT_ASSIGN_OR_RETURN(nlohmann::json json, ParseJson(text, path));
  if (!transport.empty()) {
    if (!json.is_object()) return absl::InvalidArgumentError(path + " must hold a JSON object");
    json["simulation"]["transport"] = transport;
  }
  auto config = ParseExperimentConfig(json);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

nlohmann::json ExperimentConfigToJson(const ExperimentConfig& c) {
  const auto& p = c.population;
  nlohmann::json dropout = nlohmann::json::object();
  for (int i = 0; i < secagg::kPhaseCount; ++i)
    dropout[secagg::PhaseName(i)] = c.behaviour.dropout[i];
  nlohmann::json json = {{"name", c.name},
                         {"seed", c.seed},
                         {"population",
                          {{"source", p.source},
                           {"path", p.path},
                           {"people", p.people},
                           {"max_events_per_person", p.max_events_per_person},
                           {"train_fraction", p.train_fraction},
                           {"on_error", p.on_error == OnBadLine::kSkip ? "skip" : "stop"}}},
                         {"task", TaskConfigToJson(c.task)},
                         {"simulation",
                          {{"secure_aggregation", c.secure_aggregation},
                           {"behaviour",
                            {{"dropout", dropout},
                             {"straggler_rate", c.behaviour.straggler_rate},
                             {"availability", c.behaviour.availability}}},
                           {"workers", c.workers},
                           {"eval_every", c.eval_every},
                           {"max_attempts_per_round", c.max_attempts_per_round},
                           {"transport", c.transport}}}};
  if (c.eval_people > 0) json["simulation"]["eval_people"] = c.eval_people;
  if (c.reference_top1) {
    json["reference"] = {{"top1", *c.reference_top1}, {"label", c.reference_label}};
  }
  if (c.task.aggregation.weighting == Weighting::kExamples && !c.max_weight_given) {
    // "Nobody capped" as written: the value it resolves to depends on the
    // population (the generator's differs by seed), and replicates that
    // differ only by seed must have equal configs (tacit-sim compare).
    json["task"]["aggregation"].erase("max_weight");
  }
  if (c.personalization.enabled()) {
    json["evaluation"] = {
        {"personalization", {{"steps", c.personalization.steps}, {"lr", c.personalization.lr}}}};
  }
  return json;
}

absl::StatusOr<std::vector<uint64_t>> ParseSeedList(const std::string& text) {
  nlohmann::json list = nlohmann::json::array();
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    uint64_t seed = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &seed)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--seeds '", text, "': expected integers separated by commas, e.g. --seeds 1,2,3"));
    }
    list.push_back(seed);
  }
  auto seeds = ReadSeeds(list);
  if (!seeds.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--seeds '", text, "': a seed is listed twice"));
  }
  return seeds;
}

}  // namespace tacit::sim
