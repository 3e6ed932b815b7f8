#include "coordinator/status_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tacit::coordinator {
namespace {

std::string LastAccuracy(const nlohmann::json& e) {
  if (!e.is_object()) return "none yet (no committed round with held-out predictions)";
  return absl::StrFormat(
      "top-1 %.4f, top-3 %.4f, loss %.3f nats (model version %d, %d clients, %d predictions)",
      e.value("top1", 0.0), e.value("top3", 0.0), e.value("loss", 0.0),
      e.value("model_version", int64_t{0}), e.value("clients", int64_t{0}),
      e.value("predictions", int64_t{0}));
}

// "fedadam on the server, lr 0.015 for the next round"; empty for a status
// from a coordinator that predates the field.
std::string ServerOptimizerLine(const nlohmann::json& s) {
  if (!s.contains("server_optimizer") || !s.contains("server_lr")) return "";
  return absl::StrCat("optimizer:     ", s.value("server_optimizer", ""), " on the server, lr ",
                      s.value("server_lr", 0.0), " for the next round\n");
}

// "rdp, q 1 (sampling none: ...)"; empty for a status that predates the field.
std::string AccountingLine(const nlohmann::json& s) {
  if (!s.contains("accounting") || !s["accounting"].is_object()) return "";
  const nlohmann::json& a = s["accounting"];
  return absl::StrCat("accounting:    ", a.value("accountant", ""), " at delta ",
                      a.value("delta", 0.0), ", ", a.value("mechanism", "continuous_gaussian"),
                      ", q ", a.value("q", 0.0), " per round (sampling ", a.value("sampling", ""),
                      ": ", a.value("why", ""), ")\n");
}

// "round 3 committed: 4 of 5 clients in the sum, 12.5 s, dropouts
// advertise_keys 1" or "round 2 (attempt 2) abandoned: why"; "none yet".
std::string LastRound(const nlohmann::json& r) {
  if (!r.is_object() || !r.contains("round")) return "none yet";
  std::string out = absl::StrCat("round ", r.value("round", int64_t{0}));
  if (r.value("attempt", 1) > 1) absl::StrAppend(&out, " (attempt ", r.value("attempt", 1), ")");
  const std::string outcome = r.value("outcome", "");
  absl::StrAppend(&out, " ", outcome.empty() ? "ended" : outcome);
  if (outcome == "abandoned") {
    return absl::StrCat(out, ": ", r.value("reason", std::string("no reason recorded")));
  }
  absl::StrAppend(&out, ": ", r.value("survivors", 0), " of ", r.value("cohort_size", 0),
                  " clients in the sum");
  if (r.contains("seconds")) absl::StrAppendFormat(&out, ", %.1f s", r.value("seconds", 0.0));
  if (r.contains("dropouts") && r["dropouts"].is_object()) {
    std::string dropouts;
    for (auto it = r["dropouts"].begin(); it != r["dropouts"].end(); ++it) {
      const int count = it->is_number_integer() ? it->get<int>() : 0;
      if (count > 0) absl::StrAppend(&dropouts, dropouts.empty() ? "" : ", ", it.key(), " ", count);
    }
    absl::StrAppend(&out, ", dropouts: ", dropouts.empty() ? "none" : dropouts);
  }
  if (r.contains("bytes_up")) {
    absl::StrAppend(&out, ", ", r.value("bytes_up", int64_t{0}), " bytes up, ",
                    r.value("bytes_down", int64_t{0}), " down");
  }
  return out;
}

// The coordinator's state when the status says (status_command.cc).
std::string CoordinatorLine(const nlohmann::json& s) {
  if (!s.contains("coordinator")) return "";
  return absl::StrCat("coordinator:   ", s.value("coordinator", ""), "\n");
}

}  // namespace

std::string FormatStatusText(const nlohmann::json& s) {
  return absl::StrCat(
      CoordinatorLine(s), "task:          ", s.value("task", ""), " (", s.value("rounds", 0),
      " rounds)\n", "model version: ", s.value("model_version", 0), "\n",
      "round:         ", s.value("round", 0), " attempt ", s.value("attempt", 0), ", phase ",
      s.value("phase", ""), "\n", "participants:  ", s.value("participants", 0), " seated, ",
      s.value("dropped", 0), " dropped\n", "epsilon:       ", s.value("epsilon", 0.0), "\n",
      AccountingLine(s), ServerOptimizerLine(s),
      "last round:    ", LastRound(s.value("last_round", nlohmann::json::object())), "\n",
      "last accuracy: ", LastAccuracy(s.value("last_evaluation", nlohmann::json())), "\n");
}

}  // namespace tacit::coordinator
