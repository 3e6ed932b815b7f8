// CSV in run folders (RFC 4180): what tacit-sim writes, `tacit-sim compare`
// reads back whole, and a row it cannot read is an error, never skipped.

#include "simulations/report/csv.h"

#include <unistd.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulations/report/compare_runs.h"
#include "simulations/report/run_output.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"

namespace tacit::sim {
namespace {

using ::testing::HasSubstr;

std::string TempFolder() {
  char pattern[] = "/tmp/tacit_csv_XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  EXPECT_NE(dir, nullptr);
  return dir;
}

// Fields drawn from an alphabet heavy in what CSV must quote.
std::string RandomField(std::mt19937& rng) {
  static const char kAlphabet[] = "ab,\"\r\n x";
  std::string field(rng() % 6, ' ');
  for (char& c : field) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return field;
}

TEST(CsvTest, QuotedRecordsReadBackExactly) {
  std::mt19937 rng(4180);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::vector<std::string>> rows(1 + rng() % 5);
    const size_t width = 1 + rng() % 5;
    std::string text;
    for (auto& row : rows) {
      for (size_t i = 0; i < width; ++i) row.push_back(RandomField(rng));
      // A lone empty field would be an empty line, which readers skip.
      if (width == 1 && row[0].empty()) row[0] = "x";
      std::vector<std::string> quoted;
      for (const std::string& field : row) quoted.push_back(CsvQuote(field));
      absl::StrAppend(&text, absl::StrJoin(quoted, ","), trial % 2 ? "\r\n" : "\n");
    }
    auto parsed = ParseCsv(text, "t.csv");
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
    ASSERT_EQ(parsed->size(), rows.size()) << text;
    for (size_t r = 0; r < rows.size(); ++r) EXPECT_EQ((*parsed)[r].fields, rows[r]) << text;
  }
}

TEST(CsvTest, MalformedTextIsRefusedNamingTheLine) {
  auto unclosed = ParseCsv("a,b\nc,\"d\n", "f.csv");
  EXPECT_EQ(unclosed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unclosed.status().message(), HasSubstr("f.csv:2:"));
  auto after_quote = ParseCsv("a,b\n\"c\"d,e\n", "f.csv");
  EXPECT_THAT(after_quote.status().message(), HasSubstr("f.csv:2:"));
  auto stray_quote = ParseCsv("a,b\nc\"d,e\n", "f.csv");
  EXPECT_THAT(stray_quote.status().message(), HasSubstr("f.csv:2:"));
}

// Data set ids come from file names; one holding a comma used to shift the
// row's columns, and compare then skipped the row without a word.
TEST(CsvTest, PersonalCsvWithACommaInAnIdIsReadBackWhole) {
  const std::string folder = TempFolder() + "/run";
  auto output = RunOutput::Create(folder, {{"name", "csv"}});
  ASSERT_TRUE(output.ok()) << output.status();
  RoundRecord r;
  r.round = 1;
  r.outcome = "committed";
  ASSERT_TRUE((*output)->Append(r).ok());
  RunSummary summary;
  summary.title = "csv";
  summary.personal = {{"smith, j", 10, 0.5, 0.6, 0.4},
                      {"\"quoted\"", 10, 0.1, 0.2, 0.3},
                      {"plain", 10, 0.3, 0.4, 0.2}};
  ASSERT_TRUE((*output)->Finish(summary).ok());
  auto run = LoadRunCurve(folder);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_NEAR(run->final_metrics.at("global_top1_per_person"), 0.3, 1e-9);
  EXPECT_NEAR(run->final_metrics.at("personal_top1"), 0.4, 1e-9);
  EXPECT_NEAR(run->final_metrics.at("bigram_top1"), 0.3, 1e-9);
}

TEST(CsvTest, CompareRefusesAMalformedPersonalRowNamingFileAndLine) {
  const std::string header = "person,predictions,global_top1,personal_top1,bigram_top1\n";
  for (const std::string& bad : {std::string("smith, j,10,0.5,0.6,0.4\n"),  // unquoted comma
                                 std::string("p1,10,0.5,high,0.4\n"),       // not a number
                                 std::string("p1,10,0.5\n")}) {             // short
    const std::string folder = TempFolder();
    ASSERT_TRUE(WriteFileAtomically(folder + "/rounds.jsonl", "{\"round\":1}\n").ok());
    ASSERT_TRUE(
        WriteFileAtomically(folder + "/personal.csv", header + "p0,10,0.1,0.2,0.3\n" + bad).ok());
    auto run = LoadRunCurve(folder);
    EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(run.status().message(), HasSubstr(folder + "/personal.csv:3:")) << bad;
  }
}

// `compare --svg FILE` names the chart file (`run --out` names a folder); the
// old `--out` is an unknown flag, refused before anything is read.
TEST(CompareCliTest, TheChartFlagIsSvgAndOutIsRefused) {
  const std::string folder = TempFolder();
  ASSERT_TRUE(
      WriteFileAtomically(folder + "/rounds.jsonl", "{\"round\":1,\"top1_pooled\":0.5}\n").ok());
  const std::string sim = ::tacit::testing::BinaryDir() + "/bin/tacit-sim compare " + folder;
  const auto [written, ok] = ::tacit::testing::Shell(sim + " --svg " + folder + "/c.svg 2>&1");
  EXPECT_EQ(ok, 0) << written;
  auto svg = ReadFileToString(folder + "/c.svg");
  ASSERT_TRUE(svg.ok()) << written;
  EXPECT_THAT(*svg, HasSubstr("<svg"));
  const auto [refused, code] = ::tacit::testing::Shell(sim + " --out " + folder + "/d.svg 2>&1");
  EXPECT_NE(code, 0) << refused;
  EXPECT_THAT(refused, HasSubstr("--out"));
  EXPECT_FALSE(ReadFileToString(folder + "/d.svg").ok()) << "nothing written under the old flag";
}

}  // namespace
}  // namespace tacit::sim
