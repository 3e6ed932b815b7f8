#include "simulations/report/run_output.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/file_io.h"
#include "gtest/gtest.h"
#include "simulations/report/progress_line.h"
#include "simulations/report/svg_chart.h"

namespace tacit::sim {
namespace {

std::string TempFolder() {
  char pattern[] = "/tmp/tacit_run_output_XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  EXPECT_NE(dir, nullptr);
  return std::string(dir) + "/run";
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

RoundRecord RandomRecord(int round, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  RoundRecord r;
  r.round = round;
  r.outcome = unit(rng) < 0.8 ? "committed" : "abandoned: 2 of 5 survived, threshold 3";
  r.model_version = round;
  r.selected = 10;
  r.participants = 8;
  r.dropouts_per_phase = {1, 0, 1, 0, 0};
  if (round % 3 == 0) {  // evaluated every third round
    r.evaluation = ModelEvaluation{unit(rng), unit(rng), unit(rng), unit(rng), 5 * unit(rng)};
  }
  r.train_loss = 5 * unit(rng);
  r.bytes_up = static_cast<int64_t>(1e6 * unit(rng));
  r.wall_seconds = unit(rng);
  return r;
}

TEST(RunOutputTest, WritesParsableRoundsPlotsAndSummary) {
  std::string folder = TempFolder();
  nlohmann::json config = {{"seed", 7}, {"rounds", 12}};
  auto output = RunOutput::Create(folder, config);
  ASSERT_TRUE(output.ok()) << output.status();
  std::mt19937 rng(42);
  std::vector<RoundRecord> written;
  for (int round = 1; round <= 12; ++round) {
    written.push_back(RandomRecord(round, rng));
    ASSERT_TRUE((*output)->Append(written.back()).ok());
  }
  RunSummary summary;
  summary.title = "demo";
  summary.facts = {{"population", "12 people"}};
  summary.reference_top1 = 0.75;
  ASSERT_TRUE((*output)->Finish(summary).ok());

  auto config_text = ReadFileToString(folder + "/config.json");
  ASSERT_TRUE(config_text.ok());
  EXPECT_EQ(nlohmann::json::parse(*config_text), config);

  auto jsonl = Lines(folder + "/rounds.jsonl");
  ASSERT_EQ(jsonl.size(), written.size());
  for (size_t i = 0; i < jsonl.size(); ++i) {
    auto parsed = nlohmann::json::parse(jsonl[i]);
    EXPECT_EQ(parsed["round"], written[i].round);
    EXPECT_EQ(parsed["outcome"], written[i].outcome);
    if (written[i].evaluation) {
      EXPECT_DOUBLE_EQ(parsed["top1_pooled"].get<double>(), written[i].evaluation->top1_pooled);
    } else {
      EXPECT_TRUE(parsed["top1_pooled"].is_null()) << "not measured: null, never 0 or a copy";
      EXPECT_TRUE(parsed["test_loss"].is_null());
    }
    EXPECT_EQ(parsed["dropouts"]["masked_input"], 1);
  }

  auto csv = Lines(folder + "/rounds.csv");
  ASSERT_EQ(csv.size(), written.size() + 1);
  auto columns = [](const std::string& line) {
    // Count fields outside quotes.
    int fields = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) ++fields;
    }
    return fields;
  };
  for (const auto& line : csv) EXPECT_EQ(columns(line), columns(csv[0])) << line;

  for (const char* svg : {"/accuracy.svg", "/loss.svg"}) {
    auto text = ReadFileToString(folder + svg);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->rfind("<svg", 0), 0u);
    EXPECT_NE(text->find("</svg>"), std::string::npos);
    EXPECT_NE(text->find("<polyline"), std::string::npos);
  }
  auto md = ReadFileToString(folder + "/summary.md");
  ASSERT_TRUE(md.ok());
  EXPECT_NE(md->find("# demo"), std::string::npos);
  EXPECT_NE(md->find("central reference top-1 | 75.0%"), std::string::npos);
  EXPECT_NE(md->find("accuracy.svg"), std::string::npos);
  // Every phase's dropouts, the consistency check's and unmasking's too.
  EXPECT_NE(md->find("| 1/0/1/0/0 |"), std::string::npos) << *md;
  // DP off: no privacy plot.
  EXPECT_FALSE(std::filesystem::exists(folder + "/epsilon.svg"));
  EXPECT_EQ(md->find("epsilon.svg"), std::string::npos);
}

TEST(RunOutputTest, PlotsThePrivacySpentWhenDpIsOn) {
  std::string folder = TempFolder();
  auto output = RunOutput::Create(folder, {});
  ASSERT_TRUE(output.ok()) << output.status();
  std::mt19937 rng(7);
  for (int round = 1; round <= 5; ++round) {
    RoundRecord r = RandomRecord(round, rng);
    r.outcome = "committed";
    r.epsilon = 0.5 * round;
    ASSERT_TRUE((*output)->Append(r).ok());
  }
  RunSummary summary;
  summary.title = "dp";
  ASSERT_TRUE((*output)->Finish(summary).ok());
  auto svg = ReadFileToString(folder + "/epsilon.svg");
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_NE(svg->find("<polyline"), std::string::npos);
  EXPECT_NE(svg->find("epsilon"), std::string::npos);
  auto md = ReadFileToString(folder + "/summary.md");
  ASSERT_TRUE(md.ok());
  EXPECT_NE(md->find("![epsilon](epsilon.svg)"), std::string::npos);
  EXPECT_NE(md->find("privacy spent (epsilon) | 2.500"), std::string::npos) << *md;
}

TEST(RunOutputTest, RefusesToOverwriteAnEarlierRun) {
  std::string folder = TempFolder();
  ASSERT_TRUE(RunOutput::Create(folder, {}).ok());
  auto again = RunOutput::Create(folder, {});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("already holds a run"), std::string::npos);
}

LineChart Chart(const std::string& title, std::vector<std::pair<double, double>> points) {
  LineChart chart;
  chart.title = title;
  ChartSeries series;
  series.label = "s";
  series.points = std::move(points);
  chart.series.push_back(series);
  return chart;
}

TEST(SvgChartTest, EscapesLabelsAndDrawsReferences) {
  LineChart chart = Chart("a <b> & c", {{1, 0.2}, {2, 0.4}});
  chart.references.push_back({"ref", 0.5, "#d62728"});
  std::string svg = RenderLineChartSvg(chart);
  EXPECT_NE(svg.find("a &lt;b&gt; &amp; c"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
}

TEST(SvgChartTest, SurvivesEmptyAndConstantSeries) {
  LineChart empty;
  EXPECT_NE(RenderLineChartSvg(empty).find("</svg>"), std::string::npos);
  LineChart flat = Chart("flat", {{1, 3}, {2, 3}, {3, 3}});
  std::string svg = RenderLineChartSvg(flat);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(ProgressLineTest, FormatsDurationsAndStaysQuietOffTerminal) {
  EXPECT_EQ(ProgressLine::FormatDuration(12.4), "12s");
  EXPECT_EQ(ProgressLine::FormatDuration(200), "3m20s");
  EXPECT_EQ(ProgressLine::FormatDuration(3720), "1h02m");
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ProgressLine line(10, file);
  EXPECT_FALSE(line.enabled());
  line.Update(1, "training", -1);
  line.Close();
  EXPECT_EQ(std::ftell(file), 0);
  std::fclose(file);
}

}  // namespace
}  // namespace tacit::sim
