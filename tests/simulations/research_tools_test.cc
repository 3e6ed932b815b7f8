// Issue 18: what researchers read off a run is what was measured, stated.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/model_file.h"
#include "models/parameter_layout.h"
#include "simulations/central/central_reference.h"
#include "simulations/federation/experiment_config.h"
#include "simulations/federation/inspect_data.h"
#include "simulations/federation/personal_evaluation.h"
#include "simulations/federation/run_experiment.h"
#include "simulations/federation/weighting.h"
#include "simulations/report/compare_runs.h"
#include "simulations/report/run_output.h"
#include "simulations/report/svg_chart.h"
#include "tests/simulations/small_experiment.h"

namespace tacit::sim {
namespace {

using ::testing::HasSubstr;

std::string TempFolder() {
  char pattern[] = "/tmp/tacit_research_XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  EXPECT_NE(dir, nullptr);
  return dir;
}

std::string Read(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(MeasuredOnlyTest, RoundsWithoutAnEvaluationAreNullInJsonAndEmptyInCsv) {
  nlohmann::json json = SmallExperiment(6, 4, 4, 3);
  json["simulation"]["eval_every"] = 3;  // rounds 3 and 4 (the last) are evaluated
  const std::string folder = TempFolder() + "/run";
  auto output = RunOutput::Create(folder, json);
  ASSERT_TRUE(output.ok()) << output.status();
  SimulationHooks hooks;
  hooks.output = output->get();
  SimRun run = Simulate(json, hooks);
  ASSERT_EQ(run.result.rounds.size(), 4u);
  for (const RoundRecord& r : run.result.rounds) {
    const bool evaluated = r.round == 3 || r.round == 4;
    EXPECT_EQ(r.evaluation.has_value(), evaluated) << "round " << r.round;
    const nlohmann::json line = r.ToJson();
    for (const char* key : {"top1_pooled", "top3_pooled", "top1_macro", "test_loss"}) {
      EXPECT_EQ(line[key].is_null(), !evaluated) << key << " of round " << r.round;
    }
    // CSV: the evaluation columns of a round not evaluated are empty.
    const std::string row = r.ToCsvRow();
    EXPECT_EQ(row.find(",,,,,") != std::string::npos, !evaluated) << row;
  }
  // The accuracy chart holds the two measured points, not four.
  RunSummary summary;
  summary.title = "measured";
  ASSERT_TRUE((*output)->Finish(summary).ok());
  const std::string svg = Read(folder + "/accuracy.svg");
  std::smatch polyline;
  ASSERT_TRUE(std::regex_search(svg, polyline, std::regex("points=\"([^\"]*)\"")));
  const std::string points = polyline[1];
  EXPECT_EQ(std::count(points.begin(), points.end(), ','), 2) << points;
}

TEST(MeasuredOnlyTest, SummaryNamesWhatEachWallTimeCounts) {
  const std::string folder = TempFolder() + "/run";
  auto output = RunOutput::Create(folder, {});
  ASSERT_TRUE(output.ok());
  RoundRecord r;
  r.round = 1;
  r.outcome = "committed";
  r.wall_seconds = 2.5;
  r.eval_seconds = 1.25;
  ASSERT_TRUE((*output)->Append(r).ok());
  RunSummary summary;
  summary.title = "times";
  summary.run_wall_seconds = 9.0;
  ASSERT_TRUE((*output)->Finish(summary).ok());
  const std::string md = Read(folder + "/summary.md");
  EXPECT_THAT(md, HasSubstr("sum of round times (training and secure aggregation, evaluation "
                            "excluded) | 2.5 s"));
  EXPECT_THAT(md, HasSubstr("sum of evaluation times | 1.2 s"));
  EXPECT_THAT(md, HasSubstr("wall clock of the whole run (loading, setup, rounds and evaluation; "
                            "the console's figure) | 9.0 s"));
  EXPECT_THAT(md, HasSubstr("| 1 | committed | 0/0 | 0/0/0/0/0 | — | — | — |"));
}

double SvgWidth(const std::string& svg) {
  std::smatch width;
  EXPECT_TRUE(std::regex_search(svg, width, std::regex("width=\"([0-9.]+)\"")));
  return std::stod(width[1]);
}

TEST(SvgChartTest, TheLegendBoxFitsItsLongestLabel) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    LineChart chart;
    chart.series.push_back({"top-1 pooled", {{1, 0.1}, {2, 0.2}}, "#1f77b4", {}});
    const std::string label(5 + rng() % 90, trial % 2 ? 'W' : 'e');
    chart.references.push_back({label, 0.5, "#d62728"});
    const std::string svg = RenderLineChartSvg(chart);
    // The label starts 42 px right of the plot (70 px left margin, 470 px plot).
    EXPECT_GE(SvgWidth(svg), 70 + 470 + 42 + EstimatedTextWidth(label)) << label.size();
  }
}

TEST(SvgChartTest, MarksMeasuredPointsAndDrawsABand) {
  LineChart chart;
  ChartSeries series{"mean", {{1, 0.2}, {5, 0.4}}, "#123456", {}};
  series.band = {{1, 0.1, 0.3}, {5, 0.35, 0.45}};
  chart.series.push_back(series);
  const std::string svg = RenderLineChartSvg(chart);
  EXPECT_THAT(svg, HasSubstr("<polygon fill=\"#123456\""));
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) {
    ++circles;
  }
  EXPECT_EQ(circles, 2u);
}

// A tacit-sim run folder with the given top-1 at rounds 2 and 4 (rounds 1 and 3
// not evaluated).
void WriteSimRun(const std::string& folder, uint64_t seed, double top1_at_2, double top1_at_4) {
  ASSERT_TRUE(MakeDirectories(folder).ok());
  nlohmann::json config = {{"name", "fed"}, {"seed", seed}, {"task", {{"rounds", 4}}}};
  ASSERT_TRUE(WriteFileAtomically(folder + "/config.json", config.dump()).ok());
  std::string lines;
  for (int round = 1; round <= 4; ++round) {
    nlohmann::json r = {{"round", round}, {"outcome", "committed"}, {"top1_pooled", nullptr}};
    if (round == 2) r["top1_pooled"] = top1_at_2;
    if (round == 4) r["top1_pooled"] = top1_at_4, r["top3_pooled"] = top1_at_4 + 0.1;
    lines += r.dump() + "\n";
  }
  ASSERT_TRUE(WriteFileAtomically(folder + "/rounds.jsonl", lines).ok());
}

TEST(CompareRunsTest, SeedsOfOneConfigAreOneBandAndCentralIsAReference) {
  const std::string root = TempFolder();
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> unit(0.2, 0.8);
  std::vector<double> finals;
  std::vector<RunCurve> runs;
  for (uint64_t seed : {1, 2, 3}) {
    finals.push_back(unit(rng));
    WriteSimRun(absl::StrCat(root, "/seed-", seed), seed, unit(rng), finals.back());
    auto run = LoadRunCurve(absl::StrCat(root, "/seed-", seed));
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->top1.size(), 2u) << "rounds not evaluated are not points";
    runs.push_back(*run);
  }
  const std::string central = root + "/central";
  ASSERT_TRUE(MakeDirectories(central).ok());
  ASSERT_TRUE(WriteFileAtomically(central + "/config.json",
                                  R"({"tool": "tacit-central", "name": "central"})")
                  .ok());
  ASSERT_TRUE(WriteFileAtomically(central + "/epochs.jsonl",
                                  "{\"epoch\":1,\"top1_pooled\":0.6}\n"
                                  "{\"epoch\":2,\"top1_pooled\":0.7}\n")
                  .ok());
  auto central_run = LoadRunCurve(central);
  ASSERT_TRUE(central_run.ok()) << central_run.status();
  EXPECT_TRUE(central_run->central);
  runs.push_back(*central_run);

  std::vector<RunGroup> groups = GroupReplicates(runs);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].runs.size(), 3u);
  auto spread = SpreadOf(groups[0]);
  const MetricSpread& top1 = spread.at("top1_pooled");
  EXPECT_DOUBLE_EQ(top1.min, *std::min_element(finals.begin(), finals.end()));
  EXPECT_DOUBLE_EQ(top1.max, *std::max_element(finals.begin(), finals.end()));
  EXPECT_NEAR(top1.mean, (finals[0] + finals[1] + finals[2]) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(SpreadOf(groups[1]).at("top1_pooled").mean, 0.7);

  const std::string svg = RenderComparisonSvg(groups, "t");
  EXPECT_THAT(svg, HasSubstr("<polygon"));
  EXPECT_THAT(svg, HasSubstr("central (tacit-central) top-1 0.700"));
  EXPECT_THAT(svg, HasSubstr("stroke-dasharray"));
  const std::string table = RenderComparisonTable(groups);
  EXPECT_THAT(table, HasSubstr("fed (3 seeds: 1,2,3)"));
  EXPECT_THAT(table, HasSubstr(absl::StrFormat("[%.4f, %.4f]", top1.min, top1.max)));

  EXPECT_EQ(LoadRunCurve(root).status().code(), absl::StatusCode::kNotFound);
}

TEST(ExperimentConfigTest, ReadsSeedsOnErrorAndPersonalization) {
  nlohmann::json json = SmallExperiment(4, 3, 1, 1);
  json["seeds"] = {3, 1, 2};
  json["population"]["on_error"] = "skip";
  json["evaluation"] = {{"personalization", {{"steps", 7}}}};
  auto config = ParseExperimentConfig(json);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->seeds, (std::vector<uint64_t>{3, 1, 2}));
  EXPECT_EQ(config->population.on_error, OnBadLine::kSkip);
  EXPECT_EQ(config->personalization.steps, 7);
  EXPECT_DOUBLE_EQ(config->personalization.lr, config->task.training.lr);
  EXPECT_FALSE(config->max_weight_given);

  json["seeds"] = {1, 1};
  EXPECT_THAT(ParseExperimentConfig(json).status().message(), HasSubstr("'seeds'"));
  json["seeds"] = "1,2";
  EXPECT_FALSE(ParseExperimentConfig(json).ok());
  json.erase("seeds");
  json["population"]["on_error"] = "ignore";
  EXPECT_THAT(ParseExperimentConfig(json).status().message(), HasSubstr("population.on_error"));

  EXPECT_EQ(*ParseSeedList("1, 2,3"), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_FALSE(ParseSeedList("1,x").ok());
  EXPECT_FALSE(ParseSeedList("2,2").ok());
}

std::vector<PersonTokens> PeopleOfSizes(const std::vector<size_t>& train_sizes) {
  std::vector<PersonTokens> people;
  for (size_t i = 0; i < train_sizes.size(); ++i) {
    PersonTokens p;
    p.person_id = absl::StrCat("p", i);
    for (size_t k = 0; k < train_sizes[i]; ++k) p.train.push_back(1 + static_cast<int32_t>(k % 7));
    p.test = {1, 2, 3};
    people.push_back(p);
  }
  return people;
}

TEST(WeightingTest, UnsetMaxWeightCapsNobodyAndAnExplicitOneIsCounted) {
  std::mt19937 rng(17);
  for (int trial = 0; trial < 10; ++trial) {
    std::vector<size_t> sizes;
    for (int i = 0; i < 8; ++i) sizes.push_back(2 + rng() % 30000);
    const std::vector<PersonTokens> people = PeopleOfSizes(sizes);
    nlohmann::json json = SmallExperiment(4, 3, 1, 1);
    json["task"]["aggregation"] = {{"weighting", "examples"}};
    auto config = ParseExperimentConfig(json);
    ASSERT_TRUE(config.ok()) << config.status();
    WeightingReport uncapped = ResolveWeighting(*config, people);
    EXPECT_EQ(uncapped.capped, 0);
    EXPECT_DOUBLE_EQ(config->task.aggregation.max_weight,
                     static_cast<double>(*std::max_element(sizes.begin(), sizes.end()) - 1));
    EXPECT_THAT(uncapped.description, HasSubstr("uncapped"));
    // Written back unresolved: re-running resolves it again, and seeds of a
    // generated population (whose largest person differs) stay one config.
    EXPECT_FALSE(ExperimentConfigToJson(*config)["task"]["aggregation"].contains("max_weight"));

    json["task"]["aggregation"]["max_weight"] = 10000;
    config = ParseExperimentConfig(json);
    ASSERT_TRUE(config.ok());
    WeightingReport capped = ResolveWeighting(*config, people);
    const int expected = static_cast<int>(
        std::count_if(sizes.begin(), sizes.end(), [](size_t n) { return n - 1 > 10000; }));
    EXPECT_EQ(capped.capped, expected);
    EXPECT_THAT(capped.description, HasSubstr(absl::StrCat(expected, " of 8 people capped")));
    EXPECT_DOUBLE_EQ(config->task.aggregation.max_weight, 10000);
  }
}

// Weighting by examples without max_weight: RunExperiment resolved the cap
// (nobody capped) but RunSimulation, which benches and tests call directly,
// kept the parser's default cap of 10000 examples. Both now take it from
// ResolveWeighting, so the same config trains the same model.
TEST(WeightingTest, RunSimulationAndRunExperimentWeighTheSame) {
  nlohmann::json json = SmallExperiment(3, 3, 1, 8);
  // Enough events that someone has more than 10000 training examples.
  json["population"]["max_events_per_person"] = 30000;
  json["task"]["aggregation"] = {{"weighting", "examples"}};
  auto config = ParseExperimentConfig(json);
  ASSERT_TRUE(config.ok()) << config.status();
  config->population.seed = config->seed;
  auto people = LoadPopulation(config->population);
  ASSERT_TRUE(people.ok()) << people.status();
  double largest = 0;
  for (const PersonTokens& p : *people) largest = std::max(largest, ExamplesOf(p));
  ASSERT_GT(largest, 10000) << "the test needs someone above the parser's default cap";

  auto simulated = RunSimulation(*config, *people);
  ASSERT_TRUE(simulated.ok()) << simulated.status();
  const std::string out = TempFolder() + "/experiment";
  ASSERT_EQ(RunExperiment(*config, out), 0);
  auto saved = LoadModelFile(out + "/final_model.tacitmodel");
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->parameters, simulated->final_parameters)
      << "the same config must give the same weights, so the same model";
}

TEST(PersonalModelsTest, BigramBaselineCountsTheMostFrequentSuccessor) {
  PersonTokens p;
  p.train = {1, 2, 1, 2, 1, 3, 1, 2};  // after 1: 2 three times, 3 once; after 2: 1
  p.test = {1, 2, 1, 3};               // from 2: guess 1 (hit), 2 (hit), 1 (hit), 2 (miss)
  EXPECT_DOUBLE_EQ(BigramTop1(p), 0.75);
  p.test.clear();
  EXPECT_DOUBLE_EQ(BigramTop1(p), 0);
}

TEST(PersonalModelsTest, FineTunedModelsAreScoredPerPersonBesideTheGlobalOne) {
  nlohmann::json json = SmallExperiment(4, 3, 1, 21);
  json["evaluation"] = {{"personalization", {{"steps", 5}, {"lr", 0.05}}}};
  SimRun run = Simulate(json);
  auto people = LoadPopulation(run.config.population);
  ASSERT_TRUE(people.ok());
  ASSERT_EQ(run.result.final_evaluation.size(), people->size());
  auto rows = EvaluatePersonalModels(run.config, run.result.final_parameters,
                                     run.result.final_evaluation, *people);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 4u);
  bool changed = false;
  for (size_t i = 0; i < rows->size(); ++i) {
    const PersonalRow& row = (*rows)[i];
    EXPECT_EQ(row.person, (*people)[i].person_id);
    EXPECT_EQ(row.predictions, static_cast<int64_t>((*people)[i].test.size()));
    EXPECT_DOUBLE_EQ(row.bigram_top1, BigramTop1((*people)[i]));
    // The reused figure is the number a second evaluation pass would give.
    auto again = Evaluate(run.config.model, run.result.final_parameters, (*people)[i]);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(row.global_top1, again->top1) << (*people)[i].person_id;
    EXPECT_EQ(row.predictions, again->predictions);
    changed = changed || row.personal_top1 != row.global_top1;
  }
  EXPECT_TRUE(changed) << "5 steps at lr 0.05 must move some person's predictions";
}

// The global model's figures come from the evaluation already made (no second
// pass over every person): a result handed in is the one reported, and one
// that does not cover every person is refused.
TEST(PersonalModelsTest, TheGlobalFiguresAreTheEvaluationHandedIn) {
  nlohmann::json json = SmallExperiment(3, 3, 1, 5);
  json["evaluation"] = {{"personalization", {{"steps", 1}, {"lr", 0.01}}}};
  auto config = ParseExperimentConfig(json);
  ASSERT_TRUE(config.ok()) << config.status();
  config->population.seed = config->seed;
  auto people = LoadPopulation(config->population);
  ASSERT_TRUE(people.ok()) << people.status();
  auto global = InitialParameters(config->model, 1);
  ASSERT_TRUE(global.ok());
  std::vector<EvalResult> given(people->size());
  for (size_t i = 0; i < given.size(); ++i) {
    given[i].top1 = 0.125 * static_cast<double>(i + 1);
    given[i].predictions = static_cast<int64_t>(7 + i);
  }
  auto rows = EvaluatePersonalModels(*config, *global, given, *people);
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*rows)[i].global_top1, given[i].top1);
    EXPECT_EQ((*rows)[i].predictions, given[i].predictions);
  }
  given.pop_back();
  EXPECT_EQ(EvaluatePersonalModels(*config, *global, given, *people).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InspectDataTest, PrintsTheLimitTheSplitAndTheCoverage) {
  nlohmann::json json = SmallExperiment(3, 3, 1, 1);
  auto config = ParseExperimentConfig(json);
  ASSERT_TRUE(config.ok());
  PopulationLoadReport load;
  load.event_limit = 300;
  std::vector<PersonTokens> people = PeopleOfSizes({20, 30, 40});
  people[0].test = {1, 2, 99};  // 99 in nobody's train part: OOV
  const std::string report = InspectPopulation(*config, people, load);
  EXPECT_THAT(report, HasSubstr("the first 300 events per person"));
  EXPECT_THAT(report, HasSubstr("first 80% of each person's tokens in time train"));
  EXPECT_THAT(report, HasSubstr("OOV 11.1%"));  // 1 of 9 test tokens
  const Coverage c = CoverageOf(PooledTrainTokens(people), people[0]);
  EXPECT_EQ(c.test_tokens, 3);
  EXPECT_EQ(c.in_vocabulary, 2);
}

TEST(ReplicatesTest, EachSeedRunsIntoItsFolderAndTheSummaryHasTheSpread) {
  nlohmann::json json = SmallExperiment(4, 3, 1, 1);
  auto config = ParseExperimentConfig(json);
  ASSERT_TRUE(config.ok());
  const std::string out = TempFolder() + "/replicates";
  ASSERT_EQ(RunReplicates(*config, {4, 5}, out), 0);
  for (const char* seed : {"seed-4", "seed-5"}) {
    EXPECT_TRUE(std::filesystem::exists(absl::StrCat(out, "/", seed, "/rounds.jsonl"))) << seed;
  }
  const std::string md = Read(out + "/summary.md");
  EXPECT_THAT(md, HasSubstr("small (2 seeds: 4,5)"));
  EXPECT_THAT(md, HasSubstr("sd "));
  EXPECT_THAT(Read(out + "/accuracy.svg"), HasSubstr("<svg"));
}

// tacit-central reports every epoch; watching must not change the training
// (the optimizer's state carries across epochs as before).
TEST(CentralEpochsTest, EveryEpochIsEvaluatedAndTheModelIsTheSameAsWithout) {
  auto config = ParseExperimentConfig(SmallExperiment(3, 3, 1, 1));
  ASSERT_TRUE(config.ok());
  auto people = LoadPopulation(config->population);
  ASSERT_TRUE(people.ok());
  CentralOptions options;
  options.model = config->model;
  options.train.epochs = 3;
  options.train.batch_size = 8;
  auto quiet = TrainCentrally(*people, options);
  ASSERT_TRUE(quiet.ok()) << quiet.status();
  std::vector<CentralEpoch> epochs;
  options.on_epoch = [&](const CentralEpoch& e) {
    epochs.push_back(e);
    return absl::OkStatus();
  };
  auto watched = TrainCentrally(*people, options);
  ASSERT_TRUE(watched.ok()) << watched.status();
  ASSERT_EQ(epochs.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(epochs[i].epoch, i + 1);
  EXPECT_LT(epochs[2].steps, 1 + 3 * epochs[0].steps);
  EXPECT_EQ(watched->parameters, quiet->parameters);
  EXPECT_DOUBLE_EQ(epochs[2].evaluation.pooled.top1, watched->evaluation.pooled.top1);
  EXPECT_DOUBLE_EQ(watched->evaluation.pooled.top1, quiet->evaluation.pooled.top1);
}

}  // namespace
}  // namespace tacit::sim
