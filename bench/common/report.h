#pragma once

// One JSON object per bench run, and a bench that cannot pass silently: work
// the bench exists to measure that did not happen (a round not committed, a
// phase not reached, a figure never measured) is recorded as missing, and the
// run then exits non-zero naming each missing piece.
//
//   BenchReport report("secagg_bench");
//   report.figures()["rows"] = rows;
//   report.Require(outcome == "committed", "round 3 committed");
//   report.RequireFigure("/rows/0/server_seconds");
//   return report.Finish(flags.json_path, threads);
//
// The report is {"bench", "machine", "figures", "missing"}; human-readable
// tables go to stderr so stdout holds nothing but the JSON object.

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace tacit::bench {

class BenchReport {
 public:
  explicit BenchReport(std::string bench);

  // The bench's own figures, in whatever shape suits it.
  nlohmann::json& figures() { return figures_; }

  // Records `what` as missing unless `happened`. Returns `happened`.
  bool Require(bool happened, const std::string& what);

  // Requires the figure at a JSON pointer ("/rows/0/seconds") into figures()
  // to be present, finite and not negative (-1 is how the benches have marked
  // "not measured"). Returns whether it was.
  bool RequireFigure(const std::string& pointer);

  // What was recorded as missing so far.
  const std::vector<std::string>& missing() const { return missing_; }

  // Writes the report to `json_path` ("" = stdout) with the machine it ran
  // on, names every missing piece on stderr, and returns the exit code:
  // kExitOk, or kExitWorkMissing when anything is missing or the file cannot
  // be written.
  int Finish(const std::string& json_path, int threads_used);

 private:
  std::string bench_;
  nlohmann::json figures_ = nlohmann::json::object();
  std::vector<std::string> missing_;
};

}  // namespace tacit::bench
