#include "simulations/report/round_record.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "simulations/report/csv.h"

namespace tacit::sim {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// An empty field for what was not measured.
std::string CsvField(const std::optional<double>& v) {
  return v ? absl::StrFormat("%.6f", *v) : "";
}
std::string CsvField(const std::optional<int64_t>& v) { return v ? absl::StrCat(*v) : ""; }

}  // namespace

nlohmann::json RoundRecord::ToJson() const {
  nlohmann::json dropouts = nlohmann::json::object();
  for (int i = 0; i < secagg::kPhaseCount; ++i) {
    dropouts[secagg::PhaseName(i)] = dropouts_per_phase[i];
  }
  return {{"round", round},
          {"outcome", outcome},
          {"model_version", model_version},
          {"eligible", eligible},
          {"selected", selected},
          {"stragglers", stragglers},
          {"participants", participants},
          {"dropouts", dropouts},
          {"top1_pooled", OrNull(Get(&ModelEvaluation::top1_pooled))},
          {"top3_pooled", OrNull(Get(&ModelEvaluation::top3_pooled))},
          {"top1_macro", OrNull(Get(&ModelEvaluation::top1_macro))},
          {"top3_macro", OrNull(Get(&ModelEvaluation::top3_macro))},
          {"test_loss", OrNull(Get(&ModelEvaluation::test_loss))},
          {"train_loss", OrNull(train_loss)},
          {"bytes_up", bytes_up},
          {"bytes_down", bytes_down},
          {"train_seconds", train_seconds},
          {"train_wall_seconds", train_wall_seconds},
          {"secagg_seconds", secagg_seconds},
          {"wall_seconds", wall_seconds},
          {"eval_seconds", eval_seconds},
          {"epsilon", epsilon},
          {"update_norm", OrNull(update_norm)},
          {"rotated_coordinates", OrNull(rotated_coordinates)},
          {"clipped_after_rotation", OrNull(clipped_after_rotation)},
          {"federated_evaluation", federated_evaluation}};
}

std::string RoundRecord::CsvHeader() {
  std::string header = "round,outcome,model_version,eligible,selected,stragglers,participants";
  for (secagg::Phase phase : secagg::kAllPhases) {
    absl::StrAppend(&header, ",dropouts_", secagg::PhaseName(phase));
  }
  absl::StrAppend(&header,
                  ",top1_pooled,top3_pooled,top1_macro,top3_macro,test_loss,train_loss,"
                  "bytes_up,bytes_down,train_seconds,train_wall_seconds,secagg_seconds,wall_"
                  "seconds,eval_seconds,epsilon,update_norm,rotated_coordinates,"
                  "clipped_after_rotation");
  return header;
}

std::string RoundRecord::ToCsvRow() const {
  std::string row = absl::StrCat(round, ",", CsvQuote(outcome), ",", model_version, ",", eligible,
                                 ",", selected, ",", stragglers, ",", participants);
  for (int dropped : dropouts_per_phase) absl::StrAppend(&row, ",", dropped);
  for (double ModelEvaluation::*field :
       {&ModelEvaluation::top1_pooled, &ModelEvaluation::top3_pooled, &ModelEvaluation::top1_macro,
        &ModelEvaluation::top3_macro, &ModelEvaluation::test_loss}) {
    absl::StrAppend(&row, ",", CsvField(Get(field)));
  }
  absl::StrAppend(&row, ",", CsvField(train_loss));
  absl::StrAppend(&row, absl::StrFormat(",%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.6f", bytes_up,
                                        bytes_down, train_seconds, train_wall_seconds,
                                        secagg_seconds, wall_seconds, eval_seconds, epsilon));
  absl::StrAppend(&row, ",", update_norm ? absl::StrFormat("%.6g", *update_norm) : "", ",",
                  CsvField(rotated_coordinates), ",", CsvField(clipped_after_rotation));
  return row;
}

std::optional<double> RoundRecord::Get(double ModelEvaluation::*field) const {
  if (!evaluation) return std::nullopt;
  return (*evaluation).*field;
}

}  // namespace tacit::sim
