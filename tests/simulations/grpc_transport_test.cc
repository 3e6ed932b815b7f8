// The gRPC transport: the coordinator service and the fleet client's round
// over loopback with mutual TLS, driven by the simulator.

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "client/runtime/privacy_ledger.h"
#include "gtest/gtest.h"
#include "models/parameter_layout.h"
#include "simulations/federation/derived_seeds.h"
#include "tests/simulations/small_experiment.h"

namespace tacit::sim {
namespace {

namespace fs = std::filesystem;

// Short real deadlines: a round the simulator's clock fails to move ends with
// its stall error (sum of the deadlines + 60 s) well inside ctest's timeout
// instead of hanging.
void ShortDeadlines(nlohmann::json& json) {
  json["task"]["deadlines"] = {{"check_in", 20},   {"download_train", 60}, {"advertise", 10},
                               {"share_keys", 10}, {"masked_input", 10},   {"unmasking", 10}};
}

std::string FreshFolder(const std::string& name) {
  fs::path folder =
      fs::temp_directory_path() / ("tacit-grpc-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(folder);
  return folder.string();
}

TEST(GrpcTransportTest, RoundsCommitOverTlsAndSurviveDropouts) {
  // Eight seats: the threshold is above two thirds (6), so two may vanish.
  nlohmann::json json = SmallExperiment(9, 8, 2, 22);
  json["simulation"]["transport"] = "grpc";
  ShortDeadlines(json);
  // Stragglers, and clients vanishing while sharing keys and while
  // unmasking: the coordinator's deadlines drop the silent clients and the
  // rest still commit.
  json["simulation"]["behaviour"] = {{"dropout", {{"share_keys", 0.1}, {"unmasking", 0.1}}},
                                     {"straggler_rate", 0.1}};
  json["simulation"]["max_attempts_per_round"] = 8;
  SimulationHooks hooks;
  hooks.grpc_folder = FreshFolder("dropouts");
  SimRun run = Simulate(json, hooks);

  int committed = 0, dropped = 0, stragglers = 0;
  for (const RoundRecord& r : run.result.rounds) {
    committed += r.outcome == "committed";
    stragglers += r.stragglers;
    // A straggler never advertises keys: the coordinator counts it there.
    EXPECT_GE(r.dropouts_per_phase[0], r.stragglers);
    for (int d : r.dropouts_per_phase) dropped += d;
    EXPECT_GT(r.bytes_up, 0) << r.outcome;
    if (r.outcome == "committed") {
      // Every seated client downloaded the model, stragglers too (they are
      // slow, not offline): at least its 4 bytes a parameter each.
      int64_t model_bytes = LayoutOf(run.config.model)->total_size * 4;
      EXPECT_GT(r.bytes_down, model_bytes * r.selected);
      EXPECT_GT(r.bytes_up, model_bytes * r.participants);  // masked inputs
      // Clients that vanish while unmasking keep their input in the sum.
      EXPECT_EQ(r.participants, r.selected - r.dropouts_per_phase[0] - r.dropouts_per_phase[1] -
                                    r.dropouts_per_phase[2]);
      EXPECT_GT(r.train_seconds, 0);
      ASSERT_TRUE(r.evaluation.has_value());
      EXPECT_GT(r.evaluation->test_loss, 0);
    }
  }
  EXPECT_EQ(committed, 2);
  EXPECT_EQ(run.result.model_version, 2);
  EXPECT_GT(dropped, stragglers) << "the seed must make someone vanish mid-protocol";
  EXPECT_GT(stragglers, 0) << "the seed must make someone straggle";

  // The model moved away from the coordinator's initial model.
  auto initial =
      InitialParameters(run.config.model, DeriveSeed(run.config.seed, 0, 0, kInitialModelSalt));
  ASSERT_TRUE(initial.ok());
  EXPECT_GT(MaxAbsDifference(*initial, run.result.final_parameters), 1e-3);

  // The throwaway PKI, the coordinator's state and one folder per device.
  EXPECT_TRUE(fs::exists(hooks.grpc_folder + "/pki/ca.crt"));
  EXPECT_TRUE(fs::exists(hooks.grpc_folder + "/coordinator.log"));
  EXPECT_TRUE(fs::exists(hooks.grpc_folder + "/clients/sim-0/fleet") ||
              fs::exists(hooks.grpc_folder + "/clients/sim-1/fleet"));
  fs::remove_all(hooks.grpc_folder);
}

TEST(GrpcTransportTest, SameModelAsInProcessForTheSameSeed) {
  nlohmann::json json = SmallExperiment(6, 5, 3, 33);
  // The task's weighting (uniform by default) is the coordinator's policy on
  // both transports, so both plan identical rounds.
  ShortDeadlines(json);
  // Some rounds find fewer people available than they select: the gRPC
  // coordinator then closes selection with those who checked in.
  json["simulation"]["behaviour"] = {{"availability", 0.7}};
  SimRun in_process = Simulate(json);
  json["simulation"]["transport"] = "grpc";
  SimRun grpc = Simulate(json);

  ASSERT_EQ(in_process.result.rounds.size(), grpc.result.rounds.size());
  int short_rounds = 0;
  for (size_t i = 0; i < grpc.result.rounds.size(); ++i) {
    const RoundRecord& a = in_process.result.rounds[i];
    const RoundRecord& b = grpc.result.rounds[i];
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.selected, b.selected);
    short_rounds += b.selected < 5;
    EXPECT_EQ(a.participants, b.participants);
    EXPECT_EQ(a.evaluation.has_value(), b.evaluation.has_value());
    if (a.evaluation && b.evaluation) {
      EXPECT_NEAR(a.evaluation->top1_pooled, b.evaluation->top1_pooled, 1e-3);
    }
    // What only the in-process transport sees (the updates themselves) is a
    // number there and null over gRPC, never a 0 that reads as measured.
    const nlohmann::json measured = a.ToJson(), unmeasured = b.ToJson();
    for (const char* key : {"update_norm", "rotated_coordinates", "clipped_after_rotation"}) {
      EXPECT_TRUE(unmeasured[key].is_null()) << key << " over gRPC: " << unmeasured[key];
      if (a.outcome == "committed") {
        EXPECT_TRUE(measured[key].is_number()) << key << " in process: " << measured[key];
      }
    }
  }
  EXPECT_EQ(in_process.result.model_version, grpc.result.model_version);
  EXPECT_GT(short_rounds, 0) << "the seed must leave a round short of people";
  EXPECT_GT(grpc.result.model_version, 0);
  // Same people, client ids, training seeds, noise, round ids and rounding
  // keys, and the same plan (max weight 1): only the transport differs. The
  // secure sum is exact modular arithmetic, so the models agree bit for bit,
  // which is stronger than agreeing to quantization error.
  double difference =
      MaxAbsDifference(in_process.result.final_parameters, grpc.result.final_parameters);
  EXPECT_EQ(difference, 0.0);
  std::printf("largest parameter difference between the transports: %g\n", difference);
}

// The discrete Gaussian through the real fleet client over TLS: each laptop
// plans it from the task, encodes through the secure aggregation client and
// records it in its ledger; the coordinator decodes. With the noise seeded
// the same way (per round id and person), both transports give the same
// model bit for bit and the same epsilon.
TEST(GrpcTransportTest, DiscreteGaussianIsTheSameOverTheNetwork) {
  nlohmann::json json = SmallExperiment(6, 5, 2, 35);
  json["task"]["dp"] = {{"clip_norm", 0.5}, {"noise_multiplier", 0.4}};
  ShortDeadlines(json);
  SimRun in_process = Simulate(json);
  json["simulation"]["transport"] = "grpc";
  SimulationHooks hooks;
  hooks.grpc_folder = FreshFolder("ddg");
  SimRun grpc = Simulate(json, hooks);
  ASSERT_EQ(in_process.result.rounds.size(), grpc.result.rounds.size());
  for (size_t i = 0; i < grpc.result.rounds.size(); ++i) {
    EXPECT_EQ(in_process.result.rounds[i].outcome, grpc.result.rounds[i].outcome);
    EXPECT_EQ(in_process.result.rounds[i].epsilon, grpc.result.rounds[i].epsilon);
  }
  EXPECT_GT(grpc.result.model_version, 0);
  EXPECT_EQ(MaxAbsDifference(in_process.result.final_parameters, grpc.result.final_parameters),
            0.0);
  // Every laptop's ledger says what it did: the discrete Gaussian it planned.
  int recorded = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(hooks.grpc_folder) / "clients")) {
    absl::StatusOr<runtime::Ledger> ledger = runtime::ReadLedger(entry.path().string());
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    EXPECT_TRUE(ledger->damaged.empty());
    for (const runtime::ParticipationRecord& r : ledger->participations) {
      EXPECT_EQ(r.mechanism, runtime::kDiscreteGaussianMechanism);
      ASSERT_TRUE(r.ddg.has_value());
      EXPECT_EQ(r.ddg->bits, 40);
      ++recorded;
    }
  }
  EXPECT_GT(recorded, 0);
}

// Rotated quantization on both transports: the fleet client plans and
// encodes it itself (round_runner.cc), the in-process clients through the same
// encoder, so the models agree bit for bit; the laptop accepts the planned ring.
TEST(GrpcTransportTest, CompressionIsTheSameOverTheNetwork) {
  nlohmann::json json = SmallExperiment(6, 5, 2, 36);
  json["task"]["secure_agg"] = {
      {"compression", {{"type", "rotated_quantization"}, {"bits_per_coordinate", 6}}}};
  ShortDeadlines(json);
  SimRun in_process = Simulate(json);
  json["simulation"]["transport"] = "grpc";
  SimulationHooks hooks;
  hooks.grpc_folder = FreshFolder("compression");
  SimRun grpc = Simulate(json, hooks);
  ASSERT_EQ(in_process.result.rounds.size(), grpc.result.rounds.size());
  for (size_t i = 0; i < grpc.result.rounds.size(); ++i) {
    EXPECT_EQ(in_process.result.rounds[i].outcome, grpc.result.rounds[i].outcome);
  }
  EXPECT_EQ(grpc.result.model_version, 2);
  EXPECT_EQ(MaxAbsDifference(in_process.result.final_parameters, grpc.result.final_parameters),
            0.0);
}

// An attempt abandoned before check-in (too few people available to plan a
// secure round) takes no round id on either transport, so the rounding keys,
// and with them the models, still agree bit for bit.
TEST(GrpcTransportTest, SameModelAsInProcessWhenAnAttemptIsAbandonedBeforeCheckIn) {
  nlohmann::json json = SmallExperiment(6, 5, 3, 8);
  json["simulation"]["max_attempts_per_round"] = 12;
  ShortDeadlines(json);
  json["simulation"]["behaviour"] = {{"availability", 0.45}};
  SimRun in_process = Simulate(json);
  json["simulation"]["transport"] = "grpc";
  SimRun grpc = Simulate(json);

  ASSERT_EQ(in_process.result.rounds.size(), grpc.result.rounds.size());
  int before_check_in = 0, committed = 0;
  for (size_t i = 0; i < grpc.result.rounds.size(); ++i) {
    const RoundRecord& a = in_process.result.rounds[i];
    const RoundRecord& b = grpc.result.rounds[i];
    EXPECT_EQ(a.outcome, b.outcome) << "attempt " << i;
    EXPECT_EQ(a.selected, b.selected) << "attempt " << i;
    EXPECT_EQ(a.participants, b.participants) << "attempt " << i;
    // Fewer selected than min_survivors (3): the attempt never opened.
    before_check_in += b.selected < 3 && b.outcome.rfind("abandoned: ", 0) == 0;
    committed += b.outcome == "committed";
  }
  EXPECT_GT(before_check_in, 0) << "the seed must abandon an attempt before check-in";
  EXPECT_EQ(committed, 3);
  EXPECT_EQ(in_process.result.model_version, 3);
  EXPECT_EQ(grpc.result.model_version, 3);
  EXPECT_EQ(MaxAbsDifference(in_process.result.final_parameters, grpc.result.final_parameters),
            0.0);
}

// Weighting by examples is an option of the production coordinator and
// fleet client: each laptop weighs its update by its training examples,
// capped at the task's max_weight, inside the masked vector. Both transports
// give the same model bit for bit.
TEST(GrpcTransportTest, WeightingByExamplesIsProductionsOptionOnBothTransports) {
  nlohmann::json json = SmallExperiment(5, 5, 2, 12);
  json["task"]["aggregation"] = {{"weighting", "examples"}, {"max_weight", 10000}};
  ShortDeadlines(json);
  SimRun in_process = Simulate(json);
  json["simulation"]["transport"] = "grpc";
  SimRun grpc = Simulate(json);
  ASSERT_EQ(grpc.result.model_version, 2);
  ASSERT_EQ(in_process.result.model_version, 2);
  EXPECT_EQ(MaxAbsDifference(in_process.result.final_parameters, grpc.result.final_parameters),
            0.0);
  // Weights differ from 1: the same run weighed uniformly gives another model.
  json["task"].erase("aggregation");
  SimRun uniform = Simulate(json);
  EXPECT_GT(MaxAbsDifference(uniform.result.final_parameters, grpc.result.final_parameters), 0.0);
}

TEST(GrpcTransportTest, ConfigRefusesWhatTheCoordinatorCannotDo) {
  nlohmann::json json = SmallExperiment(4, 3, 1, 1);
  json["simulation"]["transport"] = "grpc";
  // Weighting moved to the task, where production reads it.
  json["simulation"]["weighting"] = "examples";
  auto config = ParseExperimentConfig(json);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("task.aggregation.weighting"), std::string::npos)
      << config.status();
  json["simulation"].erase("weighting");
  json["simulation"]["secure_aggregation"] = false;
  config = ParseExperimentConfig(json);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("simulation.secure_aggregation"), std::string::npos);
  json["simulation"].erase("secure_aggregation");
  // Weighting by examples with DP noise would break the noise's calibration.
  json["task"]["aggregation"] = {{"weighting", "examples"}};
  json["task"]["dp"]["noise_multiplier"] = 0.5;
  config = ParseExperimentConfig(json);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("task.aggregation.weighting"), std::string::npos)
      << config.status();
  json["task"].erase("aggregation");
  config = ParseExperimentConfig(json);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->task.aggregation.weighting, Weighting::kUniform);
  EXPECT_EQ(config->task.aggregation.max_weight, 1.0);
}

}  // namespace
}  // namespace tacit::sim
