#include "task/task_proto.h"

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;

// A valid task JSON drawn at random: every range the parser checks is
// exercised from edge to edge, and optional keys are sometimes left out so
// defaults travel too.
class RandomTask {
 public:
  explicit RandomTask(uint64_t seed) : rng_(seed) {}

  nlohmann::json Draw() {
    nlohmann::json j;
    j["name"] = Word("task-");
    j["model"] = {{"name", Bit() ? "gru" : "transformer"}, {"hyperparameters", Hyperparameters()}};
    j["vocab"] = {{"size", Int(2, int64_t{1} << 24)}, {"salt", Word("salt-")}};
    j["rounds"] = Int(1, 1'000'000);
    const int size = static_cast<int>(Bit() ? Int(2, 64) : Int(2, 1'000'000));
    const int min_survivors = Bit() ? 0 : static_cast<int>(Int(2, size));
    const int survivors =
        min_survivors == 0 ? static_cast<int>(std::ceil(2.0 * size / 3.0)) : min_survivors;
    j["cohort"] = {
        {"size", size}, {"over_selection", Real(1.0, 10.0)}, {"min_survivors", min_survivors}};
    nlohmann::json deadlines = nlohmann::json::object();
    for (const char* key :
         {"check_in", "download_train", "advertise", "share_keys", "masked_input", "unmasking"}) {
      if (Bit()) deadlines[key] = Real(1e-3, 7 * 24 * 3600.0);
    }
    Maybe(j, "deadlines", deadlines);
    const int needed_bits = static_cast<int>(std::ceil(std::log2(static_cast<double>(size)))) + 8;
    const int neighbors = Bit() || size < 2 ? 0 : static_cast<int>(Int(2, size));
    const int group = neighbors > 0 ? neighbors : size;
    const int limit = neighbors > 0 ? neighbors : survivors;
    const int lowest_threshold = group / 2 + 1;
    const int threshold =
        Bit() || lowest_threshold > limit ? 0 : static_cast<int>(Int(lowest_threshold, limit));
    j["secure_agg"] = {{"bits", Int(needed_bits, 62)},
                       {"clip_range", Real(1e-6, 1e3)},
                       {"neighbors", neighbors},
                       {"threshold", threshold}};
    Maybe(j, "dp",
          {{"clip_norm", Real(1e-6, 100)},
           {"noise_multiplier", Real(0, 100)},
           {"delta", Real(1e-12, 0.999)}});
    if (j.contains("dp") && Bit()) {
      j["dp"]["sampling"] = "random_check_in";
      j["dp"]["check_in_probability"] = Real(1e-6, 1);
      j["dp"]["check_in_window_seconds"] = Real(1, 366 * 24 * 3600.0);
    }
    if (Bit()) {
      // Weighting by examples only without DP noise (the parser refuses both).
      const bool noiseless = !j.contains("dp") || j["dp"].value("noise_multiplier", 0.0) == 0;
      j["aggregation"] = noiseless && Bit() ? nlohmann::json{{"weighting", "examples"},
                                                             {"max_weight", Real(1, 1e6)}}
                                            : nlohmann::json{{"weighting", "uniform"}};
    }
    const char* types[] = {"fedavg", "fedavgm", "fedadam"};
    Maybe(j, "server_optimizer",
          {{"type", types[Int(0, 2)]},
           {"lr", Real(1e-6, 10)},
           {"momentum", Real(0, 0.999)},
           {"beta1", Real(0, 0.999)},
           {"beta2", Real(0, 0.999)},
           {"epsilon", Real(1e-9, 1)},
           {"lr_half_life_rounds", Bit() ? 0.0 : Real(0, 1000)}});
    Maybe(j, "training",
          {{"epochs", Int(1, 1000)},
           {"batch_size", Int(1, 1 << 16)},
           {"lr", Real(1e-6, 10)},
           {"optimizer", Bit() ? "sgd" : "adam"},
           {"fedprox_mu", Bit() ? 0.0 : Real(0, 10)},
           {"max_seconds", Real(1e-3, 1e5)},
           {"window_stride", Int(0, 1 << 16)}});
    int start = static_cast<int>(Int(0, 23));
    int end = static_cast<int>(Int(1, 24));
    if (start == end) end = start == 23 ? 24 : start + 1;
    Maybe(j, "eligibility",
          {{"require_ac_power", Bit()},
           {"min_idle_minutes", Int(0, 24 * 60)},
           {"unmetered_only", Bit()},
           {"min_battery_percent", Int(0, 100)},
           {"allowed_hours", {{"start", start}, {"end", end}}}});
    Maybe(j, "evaluation", {{"enabled", Bit()}, {"max_predictions", Int(1, 1 << 20)}});
    Maybe(j, "personalization", {{"steps", Int(0, 10'000)}, {"lr", Real(1e-4, 5.0)}});
    return j;
  }

 private:
  bool Bit() { return rng_() % 2 == 0; }
  int64_t Int(int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng_);
  }
  // Log-uniform across the range's magnitudes, with the edges themselves drawn
  // now and then.
  double Real(double low, double high) {
    switch (rng_() % 8) {
      case 0:
        return low;
      case 1:
        return high;
      default:
        break;
    }
    if (low > 0) {
      return std::exp(std::uniform_real_distribution<double>(std::log(low), std::log(high))(rng_));
    }
    return std::uniform_real_distribution<double>(low, high)(rng_);
  }
  std::string Word(const std::string& prefix) {
    std::string w = prefix;
    const std::string letters = "abcdefghijklmnopqrstuvwxyz0123456789-_ .";
    for (int64_t i = Int(1, 12); i > 0; --i) w += letters[Int(0, letters.size() - 1)];
    return w;
  }
  nlohmann::json Hyperparameters() {
    nlohmann::json h = nlohmann::json::object();
    if (Bit()) h["hidden_dim"] = Int(1, 1024);
    if (Bit()) h["dropout"] = Real(0, 0.9);
    if (Bit()) h["layers"] = Int(1, 6);
    if (Bit()) h["nested"] = {{"list", {1, 2.5, "three", nullptr, true}}, {"empty", {}}};
    return h;
  }
  // A section written in full, partly, or not at all.
  void Maybe(nlohmann::json& j, const char* key, nlohmann::json section) {
    switch (rng_() % 3) {
      case 0:
        return;
      case 1:
        for (auto it = section.begin(); it != section.end();) {
          it = Bit() ? section.erase(it) : std::next(it);
        }
        break;
      default:
        break;
    }
    j[key] = std::move(section);
  }

  std::mt19937_64 rng_;
};

TEST(TaskProtoTest, RandomValidTasksRoundTripJsonProtoJson) {
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const nlohmann::json drawn = RandomTask(seed).Draw();
    absl::StatusOr<TaskConfig> parsed = ParseTaskConfig(drawn);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << drawn.dump(2);
    const nlohmann::json json = TaskConfigToJson(*parsed);

    const v1::Task proto = TaskToProto(*parsed);
    // Through bytes, as on the wire.
    v1::Task received;
    ASSERT_TRUE(received.ParseFromString(proto.SerializeAsString()));
    absl::StatusOr<TaskConfig> back = TaskFromProto(received);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << json.dump(2);
    EXPECT_EQ(TaskConfigToJson(*back), json);
    EXPECT_EQ(TaskToProto(*back).SerializeAsString(), proto.SerializeAsString());
    EXPECT_EQ(back->SelectedPerRound(), parsed->SelectedPerRound());

    // And the file form: the written JSON text parses to the same task.
    absl::StatusOr<TaskConfig> reread = ParseTaskConfig(nlohmann::json::parse(json.dump()));
    ASSERT_TRUE(reread.ok()) << reread.status();
    EXPECT_EQ(TaskConfigToJson(*reread), json);
  }
}

TEST(TaskProtoTest, TheExampleTaskRoundTrips) {
  absl::StatusOr<TaskConfig> task = LoadTaskConfigFile(
      std::string(TACIT_SOURCE_DIR) + "/coordinator/examples/next_event_task.json");
  ASSERT_TRUE(task.ok()) << task.status();
  absl::StatusOr<TaskConfig> back = TaskFromProto(TaskToProto(*task));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(TaskConfigToJson(*back), TaskConfigToJson(*task));
}

v1::Task ValidProto() {
  absl::StatusOr<TaskConfig> task =
      ParseTaskConfig({{"name", "next-event"},
                       {"model", {{"name", "gru"}, {"hyperparameters", {{"hidden_dim", 16}}}}},
                       {"vocab", {{"size", 4096}, {"salt", "fleet-salt"}}},
                       {"cohort", {{"size", 10}}},
                       {"secure_agg", {{"neighbors", 6}, {"threshold", 4}}}});
  EXPECT_TRUE(task.ok()) << task.status();
  return TaskToProto(*task);
}

// One out-of-range value, set in the message and at the same key of the
// task's JSON form.
struct Mutation {
  std::string key;  // as the error must name it
  std::function<void(v1::Task&)> in_proto;
  std::string json_pointer;
  nlohmann::json json_value;
};

std::vector<Mutation> Mutations() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {"name", [](v1::Task& t) { t.set_name(""); }, "/name", ""},
      {"model.name", [](v1::Task& t) { t.mutable_model()->set_name(""); }, "/model/name", ""},
      {"vocab.size", [](v1::Task& t) { t.mutable_vocab()->set_size(1); }, "/vocab/size", 1},
      {"vocab.size", [](v1::Task& t) { t.mutable_vocab()->set_size(int64_t{1} << 40); },
       "/vocab/size", int64_t{1} << 40},
      {"vocab.salt", [](v1::Task& t) { t.mutable_vocab()->set_salt(""); }, "/vocab/salt", ""},
      {"rounds", [](v1::Task& t) { t.set_rounds(0); }, "/rounds", 0},
      {"cohort.size", [](v1::Task& t) { t.mutable_cohort()->set_size(-5); }, "/cohort/size", -5},
      {"cohort.over_selection", [nan](v1::Task& t) { t.mutable_cohort()->set_over_selection(nan); },
       "/cohort/over_selection", nan},
      {"cohort.min_survivors", [](v1::Task& t) { t.mutable_cohort()->set_min_survivors(1); },
       "/cohort/min_survivors", 1},
      {"cohort.min_survivors", [](v1::Task& t) { t.mutable_cohort()->set_min_survivors(11); },
       "/cohort/min_survivors", 11},
      {"deadlines.masked_input", [](v1::Task& t) { t.mutable_deadlines()->set_masked_input(0); },
       "/deadlines/masked_input", 0.0},
      {"deadlines.check_in", [inf](v1::Task& t) { t.mutable_deadlines()->set_check_in(inf); },
       "/deadlines/check_in", inf},
      {"secure_agg.bits", [](v1::Task& t) { t.mutable_secure_agg()->set_bits(63); },
       "/secure_agg/bits", 63},
      {"secure_agg.bits", [](v1::Task& t) { t.mutable_secure_agg()->set_bits(9); },
       "/secure_agg/bits", 9},
      {"secure_agg.clip_range", [nan](v1::Task& t) { t.mutable_secure_agg()->set_clip_range(nan); },
       "/secure_agg/clip_range", nan},
      {"secure_agg.neighbors", [](v1::Task& t) { t.mutable_secure_agg()->set_neighbors(1); },
       "/secure_agg/neighbors", 1},
      {"secure_agg.threshold", [](v1::Task& t) { t.mutable_secure_agg()->set_threshold(3); },
       "/secure_agg/threshold", 3},
      {"dp.clip_norm", [nan](v1::Task& t) { t.mutable_dp()->set_clip_norm(nan); }, "/dp/clip_norm",
       nan},
      {"dp.clip_norm", [](v1::Task& t) { t.mutable_dp()->set_clip_norm(-1); }, "/dp/clip_norm",
       -1.0},
      {"dp.noise_multiplier", [](v1::Task& t) { t.mutable_dp()->set_noise_multiplier(-0.5); },
       "/dp/noise_multiplier", -0.5},
      {"dp.delta", [](v1::Task& t) { t.mutable_dp()->set_delta(1); }, "/dp/delta", 1.0},
      {"server_optimizer.type", [](v1::Task& t) { t.mutable_server_optimizer()->set_type("sgd"); },
       "/server_optimizer/type", "sgd"},
      {"server_optimizer.momentum",
       [](v1::Task& t) { t.mutable_server_optimizer()->set_momentum(1); },
       "/server_optimizer/momentum", 1.0},
      {"server_optimizer.lr_half_life_rounds",
       [](v1::Task& t) { t.mutable_server_optimizer()->set_lr_half_life_rounds(-1); },
       "/server_optimizer/lr_half_life_rounds", -1.0},
      {"training.epochs", [](v1::Task& t) { t.mutable_training()->set_epochs(0); },
       "/training/epochs", 0},
      {"training.batch_size", [](v1::Task& t) { t.mutable_training()->set_batch_size(-3); },
       "/training/batch_size", -3},
      {"training.optimizer", [](v1::Task& t) { t.mutable_training()->set_optimizer("rmsprop"); },
       "/training/optimizer", "rmsprop"},
      {"training.max_seconds", [](v1::Task& t) { t.mutable_training()->set_max_seconds(0); },
       "/training/max_seconds", 0.0},
      {"training.window_stride", [](v1::Task& t) { t.mutable_training()->set_window_stride(-1); },
       "/training/window_stride", -1},
      {"eligibility.min_battery_percent",
       [](v1::Task& t) { t.mutable_eligibility()->set_min_battery_percent(101); },
       "/eligibility/min_battery_percent", 101},
      {"eligibility.allowed_hours.start",
       [](v1::Task& t) { t.mutable_eligibility()->set_allowed_hours_start(24); },
       "/eligibility/allowed_hours/start", 24},
      {"eligibility.allowed_hours.end",
       [](v1::Task& t) { t.mutable_eligibility()->set_allowed_hours_end(0); },
       "/eligibility/allowed_hours/end", 0},
      {"evaluation.max_predictions",
       [](v1::Task& t) { t.mutable_evaluation()->set_max_predictions(0); },
       "/evaluation/max_predictions", 0},
      {"personalization.steps", [](v1::Task& t) { t.mutable_personalization()->set_steps(10'001); },
       "/personalization/steps", 10'001},
      {"personalization.lr", [](v1::Task& t) { t.mutable_personalization()->set_lr(0); },
       "/personalization/lr", 0.0},
      {"aggregation.max_weight", [](v1::Task& t) { t.mutable_aggregation()->set_max_weight(0.5); },
       "/aggregation/max_weight", 0.5},
      {"aggregation.weighting",
       [](v1::Task& t) { t.mutable_aggregation()->set_weighting("median"); },
       "/aggregation/weighting", "median"},
  };
}

TEST(TaskProtoTest, OutOfRangeFieldsAreRefusedNamingTheKeyAsTheJsonParserDoes) {
  const v1::Task valid = ValidProto();
  ASSERT_TRUE(TaskFromProto(valid).ok());
  const nlohmann::json valid_json = TaskConfigToJson(*TaskFromProto(valid));
  for (const Mutation& m : Mutations()) {
    SCOPED_TRACE(m.key);
    v1::Task task = valid;
    m.in_proto(task);
    absl::StatusOr<TaskConfig> from_proto = TaskFromProto(task);
    ASSERT_FALSE(from_proto.ok());
    EXPECT_THAT(from_proto.status().message(), HasSubstr("'" + m.key + "'"));

    nlohmann::json json = valid_json;
    json[nlohmann::json::json_pointer(m.json_pointer)] = m.json_value;
    absl::StatusOr<TaskConfig> from_json = ParseTaskConfig(json);
    ASSERT_FALSE(from_json.ok());
    // The same rule, the same words: one parser checks both forms.
    EXPECT_EQ(from_proto.status(), from_json.status());
  }
}

TEST(TaskProtoTest, KeyPrefixIsPutInFrontOfTheKey) {
  v1::Task task = ValidProto();
  task.mutable_cohort()->set_size(-5);
  absl::StatusOr<TaskConfig> c = TaskFromProto(task, "task");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("'task.cohort.size' = -5"));
}

TEST(TaskProtoTest, MissingSectionsAreRefusedNotDefaulted) {
  v1::Task no_cohort = ValidProto();
  no_cohort.clear_cohort();
  absl::StatusOr<TaskConfig> c = TaskFromProto(no_cohort);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("section 'cohort' is missing"));

  absl::StatusOr<TaskConfig> empty = TaskFromProto(v1::Task());
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("section 'model' is missing"));
}

TEST(TaskProtoTest, HyperparametersMustBeAJsonObject) {
  for (const char* text : {"", "not json", "{\"hidden_dim\": 16", "[1, 2]", "16"}) {
    SCOPED_TRACE(text);
    v1::Task task = ValidProto();
    task.mutable_model()->set_hyperparameters_json(text);
    absl::StatusOr<TaskConfig> c = TaskFromProto(task);
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(c.status().message(), HasSubstr("'model.hyperparameters'"));
  }
  v1::Task task = ValidProto();
  task.mutable_model()->set_hyperparameters_json(R"({"hidden_dim": 32, "extra": [1, "x"]})");
  absl::StatusOr<TaskConfig> c = TaskFromProto(task);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model.hyperparameters["hidden_dim"], 32);
  EXPECT_EQ(c->model.hyperparameters["extra"][1], "x");
}

TEST(TaskProtoTest, ZeroMinSurvivorsOnTheWireMeansAutoAsInTheFile) {
  v1::Task task = ValidProto();
  task.mutable_cohort()->set_min_survivors(0);
  absl::StatusOr<TaskConfig> c = TaskFromProto(task);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->cohort.min_survivors, 7);  // ceil(2/3 * 10)
  EXPECT_EQ(TaskToProto(*c).cohort().min_survivors(), 7);
}

}  // namespace
}  // namespace tacit
