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

}  // namespace

std::string FormatStatusText(const nlohmann::json& s) {
  return absl::StrCat(
      "task:          ", s.value("task", ""), " (", s.value("rounds", 0), " rounds)\n",
      "model version: ", s.value("model_version", 0), "\n", "round:         ", s.value("round", 0),
      " attempt ", s.value("attempt", 0), ", phase ", s.value("phase", ""), "\n",
      "participants:  ", s.value("participants", 0), " seated, ", s.value("dropped", 0),
      " dropped\n", "epsilon:       ", s.value("epsilon", 0.0), "\n", AccountingLine(s),
      ServerOptimizerLine(s),
      "last round:    ", s.value("last_round", nlohmann::json::object()).dump(), "\n",
      "last accuracy: ", LastAccuracy(s.value("last_evaluation", nlohmann::json())), "\n");
}

}  // namespace tacit::coordinator
