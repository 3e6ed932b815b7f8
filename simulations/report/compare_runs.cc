#include "simulations/report/compare_runs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "simulations/report/csv.h"
#include "simulations/report/svg_chart.h"

namespace tacit::sim {
namespace {

// The metrics the table shows, in order, with their column names.
const std::vector<std::pair<std::string, std::string>>& TableMetrics() {
  static const auto* metrics = new std::vector<std::pair<std::string, std::string>>{
      {"top1_pooled", "top-1 pooled"},
      {"top3_pooled", "top-3 pooled"},
      {"top1_macro", "top-1 macro"},
      {"test_loss", "test loss"},
      {"personal_top1", "personal top-1 (macro)"},
      {"global_top1_per_person", "global top-1 (macro, personal.csv)"},
      {"bigram_top1", "bigram top-1 (macro)"}};
  return *metrics;
}

const char* kColors[] = {"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"};
const char* kReferenceColors[] = {"#d62728", "#7f7f7f", "#bcbd22", "#17becf"};

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Basename(const std::string& folder) {
  std::string trimmed = folder;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

// Every JSON line of `path`, parsed; InvalidArgument naming the line.
absl::StatusOr<std::vector<nlohmann::json>> ReadJsonLines(const std::string& path) {
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::vector<nlohmann::json> records;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    auto parsed = ParseJson(line, absl::StrCat(path, ":", line_number));
    if (!parsed.ok()) return parsed.status();
    records.push_back(*std::move(parsed));
  }
  return records;
}

std::optional<double> Number(const nlohmann::json& record, const char* key) {
  if (!record.contains(key) || !record[key].is_number()) return std::nullopt;
  return record[key].get<double>();
}

// personal.csv (RFC 4180): the header, then person,predictions,global_top1,
// personal_top1,bigram_top1 per person. A row that does not read is an error
// naming the file and line: a comparison quietly missing people is wrong.
absl::Status ReadPersonal(const std::string& path, RunCurve& run) {
  TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  TACIT_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(text, path));
  const std::vector<std::string> header = {"person", "predictions", "global_top1", "personal_top1",
                                           "bigram_top1"};
  if (records.empty() || records[0].fields != header) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":1: expected the header ",
                                                   absl::StrJoin(header, ","),
                                                   "; is this a personal.csv of tacit-sim run?"));
  }
  double global = 0, personal = 0, bigram = 0;
  int people = 0;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& row = records[r];
    double g = 0, p = 0, b = 0;
    if (row.fields.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", row.line, ": ", row.fields.size(), " fields, expected ", header.size(), " (",
          absl::StrJoin(header, ","), "); a person id holding a comma must be quoted"));
    }
    if (!absl::SimpleAtod(row.fields[2], &g) || !absl::SimpleAtod(row.fields[3], &p) ||
        !absl::SimpleAtod(row.fields[4], &b)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", row.line,
                       ": global_top1, personal_top1 and bigram_top1 must be "
                       "numbers, got '",
                       absl::StrJoin(row.fields, ","), "'"));
    }
    global += g, personal += p, bigram += b, ++people;
  }
  if (people > 0) {
    run.final_metrics["global_top1_per_person"] = global / people;
    run.final_metrics["personal_top1"] = personal / people;
    run.final_metrics["bigram_top1"] = bigram / people;
  }
  return absl::OkStatus();
}

std::string Figure(double v) { return absl::StrFormat("%.4f", v); }

}  // namespace

absl::StatusOr<RunCurve> LoadRunCurve(const std::string& folder) {
  RunCurve run;
  run.folder = folder;
  run.name = Basename(folder);
  const bool federated = FileExists(folder + "/rounds.jsonl");
  run.central = !federated && FileExists(folder + "/epochs.jsonl");
  if (!federated && !run.central) {
    return absl::NotFoundError(absl::StrCat(
        "'", folder,
        "' is not a run folder: it holds neither rounds.jsonl (tacit-sim run --out) nor "
        "epochs.jsonl (tacit-central --out)"));
  }
  if (FileExists(folder + "/config.json")) {
    TACIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(folder + "/config.json"));
    TACIT_ASSIGN_OR_RETURN(run.config, ParseJson(text, folder + "/config.json"));
    if (run.config.is_object()) {
      if (run.config.contains("name") && run.config["name"].is_string()) {
        run.name = run.config["name"].get<std::string>();
      }
      if (run.config.contains("seed") && run.config["seed"].is_number_unsigned()) {
        run.seed = run.config["seed"].get<uint64_t>();
      }
      run.config.erase("seed");
    }
  }
  const std::string records_path = folder + (run.central ? "/epochs.jsonl" : "/rounds.jsonl");
  TACIT_ASSIGN_OR_RETURN(std::vector<nlohmann::json> records, ReadJsonLines(records_path));
  const char* x_key = run.central ? "epoch" : "round";
  for (const nlohmann::json& r : records) {
    if (!r.is_object()) continue;
    std::optional<double> x = Number(r, x_key), top1 = Number(r, "top1_pooled");
    if (!x || !top1) continue;  // not evaluated: nothing measured
    run.top1.emplace_back(*x, *top1);
    run.final_metrics.clear();
    for (const auto& [key, unused] : TableMetrics()) {
      if (std::optional<double> v = Number(r, key.c_str())) run.final_metrics[key] = *v;
    }
  }
  if (FileExists(folder + "/personal.csv")) {
    TACIT_RETURN_IF_ERROR(ReadPersonal(folder + "/personal.csv", run));
  }
  return run;
}

std::vector<RunGroup> GroupReplicates(std::vector<RunCurve> runs) {
  std::vector<RunGroup> groups;
  for (RunCurve& run : runs) {
    auto same = std::find_if(groups.begin(), groups.end(), [&](const RunGroup& g) {
      return g.central == run.central && g.runs[0].config == run.config && !run.config.is_null();
    });
    if (same == groups.end()) {
      groups.push_back({run.name, run.central, {}});
      same = groups.end() - 1;
    }
    same->runs.push_back(std::move(run));
  }
  for (RunGroup& g : groups) {
    std::string seeds;
    for (const RunCurve& r : g.runs) absl::StrAppend(&seeds, seeds.empty() ? "" : ",", r.seed);
    g.label = g.runs.size() == 1
                  ? absl::StrCat(g.runs[0].name, g.central ? " (tacit-central)" : "")
                  : absl::StrCat(g.runs[0].name, " (", g.runs.size(), " seeds: ", seeds, ")");
  }
  return groups;
}

std::map<std::string, MetricSpread> SpreadOf(const RunGroup& group) {
  std::map<std::string, MetricSpread> spreads;
  for (const auto& [key, unused] : TableMetrics()) {
    std::vector<double> values;
    for (const RunCurve& r : group.runs) {
      auto found = r.final_metrics.find(key);
      if (found != r.final_metrics.end()) values.push_back(found->second);
    }
    if (values.size() != group.runs.size() || values.empty()) continue;  // not every run has it
    MetricSpread s;
    s.runs = static_cast<int>(values.size());
    s.min = *std::min_element(values.begin(), values.end());
    s.max = *std::max_element(values.begin(), values.end());
    for (double v : values) s.mean += v;
    s.mean /= static_cast<double>(values.size());
    if (values.size() > 1) {
      double squares = 0;
      for (double v : values) squares += (v - s.mean) * (v - s.mean);
      s.stddev = std::sqrt(squares / static_cast<double>(values.size() - 1));
    }
    spreads[key] = s;
  }
  return spreads;
}

std::string RenderComparisonSvg(const std::vector<RunGroup>& groups, const std::string& title) {
  LineChart chart;
  chart.title = title;
  chart.x_label = "round";
  chart.y_label = "top-1 pooled";
  int colour = 0, reference = 0;
  for (const RunGroup& g : groups) {
    if (g.central) {
      // Epochs are not rounds: the central model's final accuracy is a level
      // to reach, drawn across the chart.
      auto spread = SpreadOf(g);
      auto top1 = spread.find("top1_pooled");
      if (top1 == spread.end()) continue;
      chart.references.push_back({absl::StrFormat("%s top-1 %.3f", g.label, top1->second.mean),
                                  top1->second.mean, kReferenceColors[reference++ % 4]});
      continue;
    }
    ChartSeries series;
    series.label = g.label;
    series.color = kColors[colour++ % 6];
    // The rounds every run of the group measured.
    std::map<double, std::vector<double>> at;
    for (const RunCurve& r : g.runs) {
      for (const auto& [x, y] : r.top1) at[x].push_back(y);
    }
    for (const auto& [x, ys] : at) {
      if (ys.size() != g.runs.size()) continue;
      double mean = 0;
      for (double y : ys) mean += y;
      mean /= static_cast<double>(ys.size());
      series.points.emplace_back(x, mean);
      if (g.runs.size() > 1) {
        series.band.push_back(
            {x, *std::min_element(ys.begin(), ys.end()), *std::max_element(ys.begin(), ys.end())});
      }
    }
    if (g.runs.size() > 1) series.label += ": mean, band min..max";
    chart.series.push_back(std::move(series));
  }
  return RenderLineChartSvg(chart);
}

std::string RenderComparisonTable(const std::vector<RunGroup>& groups) {
  std::set<std::string> present;
  std::vector<std::map<std::string, MetricSpread>> spreads;
  for (const RunGroup& g : groups) {
    spreads.push_back(SpreadOf(g));
    for (const auto& [key, unused] : spreads.back()) present.insert(key);
  }
  std::string md = "| run | runs |";
  std::string rule = "|---|---|";
  for (const auto& [key, column] : TableMetrics()) {
    if (!present.count(key)) continue;
    absl::StrAppend(&md, " ", column, " |");
    rule += "---|";
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  for (size_t i = 0; i < groups.size(); ++i) {
    absl::StrAppend(&md, "| ", groups[i].label, " | ", groups[i].runs.size(), " |");
    for (const auto& [key, unused] : TableMetrics()) {
      if (!present.count(key)) continue;
      auto found = spreads[i].find(key);
      if (found == spreads[i].end()) {
        md += " |";  // not measured by this run
      } else if (found->second.runs == 1) {
        absl::StrAppend(&md, " ", Figure(found->second.mean), " |");
      } else {
        absl::StrAppend(&md, " ", Figure(found->second.mean), " [", Figure(found->second.min), ", ",
                        Figure(found->second.max), "] sd ", Figure(found->second.stddev), " |");
      }
    }
    md += "\n";
  }
  absl::StrAppend(&md,
                  "\nFinal figures: the last evaluated round (tacit-sim) or epoch "
                  "(tacit-central) of each run; several seeds: mean [min, max] and sample "
                  "standard deviation.\n");
  return md;
}

}  // namespace tacit::sim
