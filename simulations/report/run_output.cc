#include "simulations/report/run_output.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/byte_size.h"
#include "common/file_io.h"
#include "common/status_macros.h"
#include "simulations/report/csv.h"
#include "simulations/report/svg_chart.h"

namespace tacit::sim {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::StatusOr<std::FILE*> OpenForAppend(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  return file;
}

absl::Status WriteLine(std::FILE* file, const std::string& line, const std::string& name) {
  if (std::fputs(line.c_str(), file) < 0 || std::fputc('\n', file) < 0 || std::fflush(file) != 0) {
    return absl::DataLossError(
        absl::StrCat("writing ", name, " failed: ", std::strerror(errno), " (is the disk full?)"));
  }
  return absl::OkStatus();
}

std::string Percent(double v) { return absl::StrFormat("%.1f%%", 100 * v); }

}  // namespace

absl::Status RunOutput::WritePersonal(const RunSummary& summary, std::string& md) const {
  std::string csv = "person,predictions,global_top1,personal_top1,bigram_top1\n";
  double global = 0, personal = 0, bigram = 0;
  int beats_global = 0, beats_bigram = 0;
  for (const PersonalRow& p : summary.personal) {
    // A person's id comes from a data set's file names: it may hold a comma.
    absl::StrAppendFormat(&csv, "%s,%d,%.6f,%.6f,%.6f\n", CsvQuote(p.person), p.predictions,
                          p.global_top1, p.personal_top1, p.bigram_top1);
    global += p.global_top1;
    personal += p.personal_top1;
    bigram += p.bigram_top1;
    beats_global += p.personal_top1 > p.global_top1;
    beats_bigram += p.personal_top1 > p.bigram_top1;
  }
  const double n = static_cast<double>(summary.personal.size());
  absl::StrAppend(&md, "## Personal models\n\n", summary.personalization,
                  ", per person, evaluated on the person's own test part (top-1, mean over ",
                  summary.personal.size(), " people):\n\n| model | top-1 (macro) |\n|---|---|\n");
  absl::StrAppend(&md, "| global model | ", Percent(global / n), " |\n| personal model | ",
                  Percent(personal / n), " |\n| each person's own bigram baseline | ",
                  Percent(bigram / n), " |\n\n");
  absl::StrAppendFormat(&md,
                        "The personal model beats the global model for %d of %d people and "
                        "the person's bigram baseline for %d of %d. Per person: "
                        "`personal.csv`.\n\n",
                        beats_global, static_cast<int>(n), beats_bigram, static_cast<int>(n));
  return WriteFileAtomically(folder_ + "/personal.csv", csv);
}

absl::StatusOr<std::unique_ptr<RunOutput>> RunOutput::Create(const std::string& folder,
                                                             const nlohmann::json& config) {
  if (Exists(folder + "/rounds.jsonl")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "output folder ", folder, " already holds a run; choose another --out or remove it"));
  }
  TACIT_RETURN_IF_ERROR(MakeDirectories(folder));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(folder + "/config.json", config.dump(2) + "\n"));
  TACIT_ASSIGN_OR_RETURN(std::FILE * jsonl, OpenForAppend(folder + "/rounds.jsonl"));
  auto csv = OpenForAppend(folder + "/rounds.csv");
  if (!csv.ok()) {
    std::fclose(jsonl);
    return csv.status();
  }
  std::unique_ptr<RunOutput> output(new RunOutput(folder, jsonl, *csv));
  TACIT_RETURN_IF_ERROR(WriteLine(output->csv_, RoundRecord::CsvHeader(), "rounds.csv"));
  return output;
}

RunOutput::~RunOutput() {
  std::fclose(jsonl_);
  std::fclose(csv_);
}

absl::Status RunOutput::Append(const RoundRecord& record) {
  TACIT_RETURN_IF_ERROR(WriteLine(jsonl_, record.ToJson().dump(), "rounds.jsonl"));
  TACIT_RETURN_IF_ERROR(WriteLine(csv_, record.ToCsvRow(), "rounds.csv"));
  rounds_.push_back(record);
  return absl::OkStatus();
}

absl::Status RunOutput::Finish(const RunSummary& summary) {
  // Measured points only: a round without an evaluation adds nothing to the
  // accuracy and test-loss curves, one in which nobody trained nothing to the
  // training loss.
  ChartSeries top1{"top-1 pooled", {}, "#1f77b4", {}}, top3{"top-3 pooled", {}, "#2ca02c", {}},
      macro{"top-1 macro", {}, "#9467bd", {}}, test_loss{"test loss", {}, "#ff7f0e", {}},
      train_loss{"train loss", {}, "#8c564b", {}}, epsilon{"epsilon spent", {}, "#d62728", {}};
  const RoundRecord* last = nullptr;            // the last evaluated round
  const RoundRecord* last_committed = nullptr;  // its epsilon is the privacy spent
  int committed = 0, abandoned = 0;
  int64_t bytes_up = 0, bytes_down = 0;
  double round_seconds = 0, eval_seconds = 0;
  for (const auto& r : rounds_) {
    round_seconds += r.wall_seconds;
    eval_seconds += r.eval_seconds;
    bytes_up += r.bytes_up;
    bytes_down += r.bytes_down;
    if (r.outcome != "committed") {
      ++abandoned;
      continue;
    }
    ++committed;
    last_committed = &r;
    if (r.train_loss) train_loss.points.emplace_back(r.round, *r.train_loss);
    if (r.epsilon > 0) epsilon.points.emplace_back(r.round, r.epsilon);
    if (!r.evaluation) continue;
    last = &r;
    top1.points.emplace_back(r.round, r.evaluation->top1_pooled);
    top3.points.emplace_back(r.round, r.evaluation->top3_pooled);
    macro.points.emplace_back(r.round, r.evaluation->top1_macro);
    test_loss.points.emplace_back(r.round, r.evaluation->test_loss);
  }

  LineChart accuracy{summary.title + ": next-event accuracy",
                     "round",
                     "accuracy",
                     {top1, top3, macro},
                     {},
                     0.0,
                     1.0};
  if (summary.reference_top1) {
    accuracy.references.push_back(
        {summary.reference_label + " top-1", *summary.reference_top1, "#d62728"});
  }
  LineChart loss;
  loss.title = summary.title + ": loss";
  loss.x_label = "round";
  loss.y_label = "cross-entropy";
  loss.series = {test_loss, train_loss};
  TACIT_RETURN_IF_ERROR(
      WriteFileAtomically(folder_ + "/accuracy.svg", RenderLineChartSvg(accuracy)));
  TACIT_RETURN_IF_ERROR(WriteFileAtomically(folder_ + "/loss.svg", RenderLineChartSvg(loss)));
  // With DP on, the privacy spent after each committed round (the
  // coordinator's accounting, docs/privacy_math.md).
  const bool with_dp = !epsilon.points.empty();
  if (with_dp) {
    LineChart privacy;
    privacy.title = summary.title + ": privacy spent";
    privacy.x_label = "round";
    privacy.y_label = "epsilon";
    privacy.series = {epsilon};
    privacy.y_min = 0.0;
    TACIT_RETURN_IF_ERROR(
        WriteFileAtomically(folder_ + "/epsilon.svg", RenderLineChartSvg(privacy)));
  }

  std::string md = absl::StrCat("# ", summary.title, "\n\n");
  absl::StrAppend(&md, "| | |\n|---|---|\n");
  for (const auto& [key, value] : summary.facts)
    absl::StrAppend(&md, "| ", key, " | ", value, " |\n");
  absl::StrAppend(&md, "| rounds committed / abandoned | ", committed, " / ", abandoned, " |\n");
  if (last != nullptr) {
    const ModelEvaluation& e = *last->evaluation;
    absl::StrAppend(&md, "| final top-1 / top-3 (pooled) | ", Percent(e.top1_pooled), " / ",
                    Percent(e.top3_pooled), " |\n");
    absl::StrAppend(&md, "| final top-1 / top-3 (macro over people) | ", Percent(e.top1_macro),
                    " / ", Percent(e.top3_macro), " |\n");
  }
  if (last_committed != nullptr && last_committed->epsilon > 0) {
    absl::StrAppend(&md, "| privacy spent (epsilon) | ",
                    absl::StrFormat("%.3f", last_committed->epsilon), " |\n");
  }
  if (summary.reference_top1) {
    absl::StrAppend(&md, "| ", summary.reference_label, " top-1 | ",
                    Percent(*summary.reference_top1), " |\n");
  }
  absl::StrAppend(&md, "| sent by clients (masked updates only) | ", FormatByteSize(bytes_up),
                  " |\n| received by clients | ", FormatByteSize(bytes_down), " |\n");
  absl::StrAppend(&md,
                  "| sum of round times (training and secure aggregation, evaluation "
                  "excluded) | ",
                  absl::StrFormat("%.1f s", round_seconds), " |\n");
  absl::StrAppend(&md, "| sum of evaluation times | ", absl::StrFormat("%.1f s", eval_seconds),
                  " |\n");
  if (summary.run_wall_seconds) {
    absl::StrAppend(&md,
                    "| wall clock of the whole run (loading, setup, rounds and evaluation; "
                    "the console's figure) | ",
                    absl::StrFormat("%.1f s", *summary.run_wall_seconds), " |\n");
  }
  absl::StrAppend(&md, "\n");
  absl::StrAppend(&md, "![accuracy](accuracy.svg)\n\n![loss](loss.svg)\n\n");
  if (with_dp) absl::StrAppend(&md, "![epsilon](epsilon.svg)\n\n");
  absl::StrAppend(&md,
                  "## Rounds\n\n| round | outcome | participants | dropouts (adv/share/"
                  "masked/check/unmask) | top-1 | top-3 | test loss | wall s |\n"
                  "|---|---|---|---|---|---|---|---|\n");
  auto figure = [](const std::optional<double>& v) {
    return v ? absl::StrFormat("%.3f", *v) : std::string("—");  // not evaluated
  };
  for (const auto& r : rounds_) {
    const std::string dropouts = absl::StrJoin(r.dropouts_per_phase, "/");
    absl::StrAppendFormat(&md, "| %d | %s | %d/%d | %s | %s | %s | %s | %.1f |\n", r.round,
                          r.outcome, r.participants, r.selected, dropouts,
                          figure(r.Get(&ModelEvaluation::top1_pooled)),
                          figure(r.Get(&ModelEvaluation::top3_pooled)),
                          figure(r.Get(&ModelEvaluation::test_loss)), r.wall_seconds);
  }
  if (!summary.personal.empty()) {
    TACIT_RETURN_IF_ERROR(WritePersonal(summary, md));
  }
  absl::StrAppend(&md,
                  "\nFiles: `config.json` (resolved config), `rounds.jsonl` and `rounds.csv` "
                  "(per-round metrics)",
                  summary.final_model_file.empty()
                      ? ""
                      : absl::StrCat(", `", summary.final_model_file, "` (final global model)"),
                  summary.personal.empty() ? "" : ", `personal.csv` (per-person top-1)", ".\n");
  return WriteFileAtomically(folder_ + "/summary.md", md);
}

}  // namespace tacit::sim
