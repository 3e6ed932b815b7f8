#pragma once

// `tacit-sim compare RUN_DIR...` and the replicate summary of `--seeds`: read
// run folders (tacit-sim's rounds.jsonl, tacit-central's epochs.jsonl), group
// runs whose configs differ only by seed, and draw one accuracy chart (a
// group's mean line with its min-max band; a central run as a reference
// line) and one table (each metric's mean and min..max over seeds).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tacit::sim {

// One run folder as compare reads it: measured points only.
struct RunCurve {
  std::string folder;
  std::string name;      // config's "name" (or the folder's)
  bool central = false;  // a tacit-central run (epochs.jsonl)
  uint64_t seed = 0;
  nlohmann::json config;  // config.json without "seed": runs with equal configs are replicates
  std::vector<std::pair<double, double>> top1;  // (round or epoch, top-1 pooled)
  // The last evaluated round's (or epoch's) figures, and with personal.csv the
  // per-person means; a metric the run did not measure is absent.
  std::map<std::string, double> final_metrics;
};

// Reads `folder`; NotFound when it holds neither rounds.jsonl nor epochs.jsonl,
// InvalidArgument naming the file and line for a record that does not parse.
absl::StatusOr<RunCurve> LoadRunCurve(const std::string& folder);

struct RunGroup {
  std::string label;  // "sea_all40 (3 seeds)"
  bool central = false;
  std::vector<RunCurve> runs;
};

// Groups in first-seen order; runs with the same config but the seed are one group.
std::vector<RunGroup> GroupReplicates(std::vector<RunCurve> runs);

// Mean, min and max of each metric over a group's runs (metrics every run has).
struct MetricSpread {
  double mean = 0, min = 0, max = 0, stddev = 0;  // stddev: sample (n - 1), 0 for one run
  int runs = 0;
};
std::map<std::string, MetricSpread> SpreadOf(const RunGroup& group);

// The accuracy chart: per group the mean top-1 at the rounds every run measured
// with its min-max band (one run: its line); central groups as reference lines.
std::string RenderComparisonSvg(const std::vector<RunGroup>& groups, const std::string& title);
// The table, as markdown: one row per group, "mean [min, max]" per metric.
std::string RenderComparisonTable(const std::vector<RunGroup>& groups);

}  // namespace tacit::sim
