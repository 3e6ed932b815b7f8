// tacit-sim under mpirun: the same run as one process (models byte for byte,
// every measured round figure but the times), ranks that disagree stop the
// run naming the rank, and the shard layout and run digests the ranks check.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "simulations/mpi/shard_layout.h"
#include "simulations/report/csv.h"
#include "tests/simulations/small_experiment.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"
#include "tests/support/test_seed.h"

namespace tacit::sim {
namespace {

std::string Tool() { return tacit::testing::BinaryDir() + "/bin/tacit-sim"; }

std::string FreshDir(const std::string& name) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("tacit-mpi-" + name + "-XXXXXX")).string();
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// mpirun refuses root unless told twice; the CI machine runs tests as root.
std::string Mpirun() {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe";
}

#define TACIT_REQUIRE_MPIRUN()                                                        \
  if (!tacit::testing::OnPath("mpirun")) {                                            \
    if (tacit::testing::RunningInCi()) FAIL() << "mpirun is required in CI";          \
    GTEST_SKIP() << "SKIPPED: mpirun not found (scripts/setup installs openmpi-bin)"; \
  }

// A small federation (small_experiment.h) drawn from `rng`: secure
// aggregation on or off, fixed point or rotated quantization, dropouts in two
// phases, 2-4 rounds, sometimes a sampled evaluation and weighting by examples.
nlohmann::json RandomConfig(std::mt19937_64& rng) {
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int people = pick(8, 16);
  nlohmann::json config = SmallExperiment(people, 6, pick(2, 4), pick(1, 1000));
  config["task"]["cohort"] = {{"size", 6}, {"over_selection", 1.25}, {"min_survivors", 4}};
  if (pick(0, 1) == 1) {
    config["task"]["secure_agg"] = {
        {"bits", 0},
        {"clip_range", 1.0},
        {"compression", {{"type", "rotated_quantization"}, {"bits_per_coordinate", pick(2, 8)}}}};
  }
  config["simulation"] = {
      {"secure_aggregation", pick(0, 3) > 0},
      {"max_attempts_per_round", 5},
      {"behaviour",
       {{"dropout", {{"share_keys", 0.1}, {"masked_input", 0.1}}}, {"availability", 0.9}}}};
  // Issue 17: the sample rank 0 sends each shard, and the examples cap rank 0
  // resolves for shards that read only their own people.
  if (pick(0, 1) == 1) config["simulation"]["eval_people"] = pick(1, people - 1);
  const bool compressed = config["task"]["secure_agg"].contains("compression");
  if (pick(0, 1) == 1 && !compressed) {  // compression weighs uniformly
    config["task"]["aggregation"] = {{"weighting", "examples"}};
  }
  return config;
}

// rounds.csv without the columns that time things (they differ run to run)
// and the bytes clients sent: secure aggregation keys are fresh each run, and
// a few protobuf varints of the key material change length (one process run
// twice differs by a few bytes per round too). Those are compared apart.
bool ComparedApart(const std::string& column) {
  return column.find("seconds") != std::string::npos || column == "bytes_up";
}

std::vector<double> BytesUp(const std::string& folder) {
  auto records = ParseCsv(ReadAll(folder + "/rounds.csv"), "rounds.csv");
  std::vector<double> bytes;
  if (!records.ok() || records->empty()) return bytes;
  const std::vector<std::string>& header = (*records)[0].fields;
  const size_t column = std::find(header.begin(), header.end(), "bytes_up") - header.begin();
  for (size_t r = 1; r < records->size(); ++r) {
    bytes.push_back(std::stod((*records)[r].fields.at(column)));
  }
  return bytes;
}

std::vector<std::vector<std::string>> RoundFigures(const std::string& folder) {
  auto records = ParseCsv(ReadAll(folder + "/rounds.csv"), "rounds.csv");
  EXPECT_TRUE(records.ok()) << records.status();
  if (!records.ok() || records->empty()) return {};
  const std::vector<std::string>& header = (*records)[0].fields;
  std::vector<std::vector<std::string>> rows;
  for (const CsvRecord& record : *records) {
    std::vector<std::string> row;
    for (size_t i = 0; i < header.size() && i < record.fields.size(); ++i) {
      if (!ComparedApart(header[i])) row.push_back(record.fields[i]);
    }
    rows.push_back(row);
  }
  return rows;
}

TEST(MpiParity, ThreeRanksRunTheSameFederationAsOneProcess) {
  TACIT_REQUIRE_MPIRUN();
  const uint64_t seed = tacit::testing::TestSeed();
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937_64 rng(seed);
  const nlohmann::json config = RandomConfig(rng);
  SCOPED_TRACE(config.dump());
  const std::string dir = FreshDir("parity");
  const std::string config_path = dir + "/config.json";
  std::ofstream(config_path) << config.dump(2);

  auto [one_output, one_code] = tacit::testing::Shell(
      absl::StrCat(Tool(), " run --config ", config_path, " --out ", dir, "/one 2>&1"));
  ASSERT_EQ(one_code, 0) << one_output;
  auto [mpi_output, mpi_code] = tacit::testing::Shell(absl::StrCat(
      Mpirun(), " -np 3 ", Tool(), " run --config ", config_path, " --out ", dir, "/mpi 2>&1"));
  ASSERT_EQ(mpi_code, 0) << mpi_output;
  // The run really was sharded, and rank 0 alone reported it.
  EXPECT_NE(mpi_output.find("2 shard ranks run the laptops"), std::string::npos) << mpi_output;
  EXPECT_NE(ReadAll(dir + "/mpi/summary.md").find("MPI: rank 0 runs the coordinator"),
            std::string::npos);

  // The report names the BLAS the laptops trained with: the shard ranks',
  // the same as one process's (rank 0 trains nobody).
  auto blas_of = [](const std::string& output) {
    const size_t at = output.find("; BLAS ");
    return at == std::string::npos ? std::string() : output.substr(at, output.find('\n', at) - at);
  };
  EXPECT_FALSE(blas_of(one_output).empty()) << one_output;
  EXPECT_EQ(blas_of(one_output), blas_of(mpi_output));

  const std::string one_model = ReadAll(dir + "/one/final_model.tacitmodel");
  ASSERT_FALSE(one_model.empty());
  EXPECT_TRUE(one_model == ReadAll(dir + "/mpi/final_model.tacitmodel"))
      << "the final models differ";
  const auto one_rounds = RoundFigures(dir + "/one");
  ASSERT_GE(one_rounds.size(), 3u);  // the header and at least two rounds
  EXPECT_EQ(one_rounds, RoundFigures(dir + "/mpi"));
  const std::vector<double> one_bytes = BytesUp(dir + "/one"), mpi_bytes = BytesUp(dir + "/mpi");
  ASSERT_EQ(one_bytes.size(), mpi_bytes.size());
  for (size_t r = 0; r < one_bytes.size(); ++r) {
    EXPECT_GT(one_bytes[r], 0) << "round " << r + 1 << " sent nothing";
    EXPECT_NEAR(one_bytes[r], mpi_bytes[r], 1e-3 * one_bytes[r]) << "round " << r + 1;
  }
  std::filesystem::remove_all(dir);
}

TEST(MpiParity, RanksStartedWithAnotherConfigStopTheRunNamingTheRank) {
  TACIT_REQUIRE_MPIRUN();
  std::mt19937_64 rng(tacit::testing::TestSeed());
  nlohmann::json config = RandomConfig(rng);
  const std::string dir = FreshDir("disagree");
  std::ofstream(dir + "/a.json") << config.dump(2);
  config["task"]["training"]["lr"] = 0.02;  // one key differs, nothing else
  std::ofstream(dir + "/b.json") << config.dump(2);
  // Open MPI's MPMD form: rank 0 reads a.json, ranks 1 and 2 read b.json.
  auto [output, code] = tacit::testing::Shell(
      absl::StrCat(Mpirun(), " -np 1 ", Tool(), " run --config ", dir, "/a.json --out ", dir,
                   "/out : -np 2 ", Tool(), " run --config ", dir, "/b.json 2>&1"));
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("resolved a different experiment config than rank 0"), std::string::npos)
      << output;
  EXPECT_NE(output.find("rank 1"), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out/rounds.csv")) << "a run started anyway";
  std::filesystem::remove_all(dir);
}

TEST(ShardLayout, EveryPersonHasOneOwnerAndTheShardsDifferByAtMostOne) {
  std::mt19937_64 rng(tacit::testing::TestSeed());
  for (int trial = 0; trial < 50; ++trial) {
    const int ranks = std::uniform_int_distribution<int>(2, 9)(rng);
    const size_t people = std::uniform_int_distribution<size_t>(0, 500)(rng);
    EXPECT_TRUE(PeopleOfRank(0, ranks, people).empty()) << "rank 0 owns nobody";
    std::set<size_t> seen;
    size_t smallest = people, largest = 0;
    for (int rank = 1; rank < ranks; ++rank) {
      std::vector<size_t> owned = PeopleOfRank(rank, ranks, people);
      smallest = std::min(smallest, owned.size());
      largest = std::max(largest, owned.size());
      for (size_t person : owned) {
        EXPECT_EQ(OwnerRank(person, ranks), rank);
        EXPECT_TRUE(seen.insert(person).second) << "person " << person << " owned twice";
      }
    }
    EXPECT_EQ(seen.size(), people);
    EXPECT_LE(largest - std::min(smallest, largest), 1u);
  }
}

TEST(ShardLayout, OneChangedTokenOrKeyIsADifferentRun) {
  std::mt19937_64 rng(tacit::testing::TestSeed());
  ExperimentConfig config;
  std::vector<PersonTokens> people(std::uniform_int_distribution<int>(1, 6)(rng));
  for (size_t i = 0; i < people.size(); ++i) {
    people[i].person_id = absl::StrCat("p", i);
    people[i].train.resize(std::uniform_int_distribution<int>(1, 50)(rng));
    people[i].test.resize(std::uniform_int_distribution<int>(1, 20)(rng));
    for (int32_t& t : people[i].train) t = std::uniform_int_distribution<int32_t>(0, 99)(rng);
  }
  auto ours = DigestsOf(config, people);
  ASSERT_TRUE(ours.ok());
  EXPECT_TRUE(CheckSameRun(1, *ours, *DigestsOf(config, people)).ok());

  std::vector<PersonTokens> changed = people;
  std::vector<int32_t>& tokens = changed[rng() % changed.size()].train;
  tokens[rng() % tokens.size()] += 1;
  absl::Status data = CheckSameRun(3, *ours, *DigestsOf(config, changed));
  EXPECT_EQ(data.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(data.message().find("rank 3 loaded different data"), std::string::npos) << data;

  // A token moved from train to test is another split, not the same data.
  std::vector<PersonTokens> moved = people;
  moved[0].test.insert(moved[0].test.begin(), moved[0].train.back());
  moved[0].train.pop_back();
  EXPECT_FALSE(CheckSameRun(1, *ours, *DigestsOf(config, moved)).ok());

  ExperimentConfig other = config;
  other.workers = config.workers + 1;
  absl::Status key = CheckSameRun(2, *ours, *DigestsOf(other, people));
  EXPECT_NE(key.message().find("rank 2 resolved a different experiment config"), std::string::npos)
      << key;
}

}  // namespace
}  // namespace tacit::sim
