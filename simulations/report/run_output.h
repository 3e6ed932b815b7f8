#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "simulations/report/round_record.h"

namespace tacit::sim {

// One person's next-event top-1 on their own test part: the final global
// model, the global model fine-tuned on the person's train part (the personal
// model a laptop would keep), and the person's own bigram baseline.
struct PersonalRow {
  std::string person;
  int64_t predictions = 0;
  double global_top1 = 0;
  double personal_top1 = 0;
  double bigram_top1 = 0;
};

// What the one-page summary says besides the per-round table.
struct RunSummary {
  std::string title;
  // Ordered facts ("population", "40 people from sea-commands"), shown as a table.
  std::vector<std::pair<std::string, std::string>> facts;
  // Pooled top-1 of the centrally trained reference model, drawn on the plot.
  std::optional<double> reference_top1;
  std::string reference_label = "central reference";
  std::string final_model_file;  // relative to the run folder, "" when not saved
  // Wall clock of the whole run: loading, setup, rounds and evaluations.
  std::optional<double> run_wall_seconds;
  // Per-person fine-tuning (evaluation.personalization), with how it was made;
  // empty when off. Written to personal.csv and a summary section.
  std::vector<PersonalRow> personal;
  std::string personalization;  // "20 steps of sgd lr 0.1 from the final global model"
};

// The output folder of one simulated run:
//   config.json    the resolved experiment config (every default filled in)
//   rounds.jsonl   one JSON object per round, appended and flushed as rounds end,
//   rounds.csv     so a run stopped half-way still leaves readable results
//   accuracy.svg, loss.svg, summary.md   written by Finish()
//   personal.csv   per person global / personal / bigram top-1, when personalized
class RunOutput {
 public:
  // Creates `folder` (and parents). FailedPrecondition when it already holds a run,
  // so results are never silently overwritten.
  static absl::StatusOr<std::unique_ptr<RunOutput>> Create(const std::string& folder,
                                                           const nlohmann::json& config);
  ~RunOutput();

  absl::Status Append(const RoundRecord& record);
  absl::Status Finish(const RunSummary& summary);

  const std::string& folder() const { return folder_; }
  const std::vector<RoundRecord>& rounds() const { return rounds_; }

 private:
  // personal.csv and the summary's "Personal models" section.
  absl::Status WritePersonal(const RunSummary& summary, std::string& md) const;
  RunOutput(std::string folder, std::FILE* jsonl, std::FILE* csv)
      : folder_(std::move(folder)), jsonl_(jsonl), csv_(csv) {}
  std::string folder_;
  std::FILE* jsonl_;
  std::FILE* csv_;
  std::vector<RoundRecord> rounds_;
};

}  // namespace tacit::sim
