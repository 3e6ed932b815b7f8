#include "simulations/report/round_record.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace tacit::sim {
namespace {

// Outcomes may hold commas or quotes; CSV wants them quoted.
std::string CsvQuote(const std::string& field) {
  if (field.find_first_of(",\"\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

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
          {"top1_pooled", top1_pooled},
          {"top3_pooled", top3_pooled},
          {"top1_macro", top1_macro},
          {"top3_macro", top3_macro},
          {"test_loss", test_loss},
          {"train_loss", train_loss},
          {"bytes_up", bytes_up},
          {"bytes_down", bytes_down},
          {"train_seconds", train_seconds},
          {"train_wall_seconds", train_wall_seconds},
          {"secagg_seconds", secagg_seconds},
          {"wall_seconds", wall_seconds},
          {"eval_seconds", eval_seconds},
          {"epsilon", epsilon},
          {"update_norm", update_norm},
          {"rotated_coordinates", rotated_coordinates},
          {"clipped_after_rotation", clipped_after_rotation},
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
  absl::StrAppend(
      &row, absl::StrFormat(
                ",%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.6f,%.6g,%d,%d",
                top1_pooled, top3_pooled, top1_macro, top3_macro, test_loss, train_loss, bytes_up,
                bytes_down, train_seconds, train_wall_seconds, secagg_seconds, wall_seconds,
                eval_seconds, epsilon, update_norm, rotated_coordinates, clipped_after_rotation));
  return row;
}

}  // namespace tacit::sim
