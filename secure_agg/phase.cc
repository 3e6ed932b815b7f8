#include "secure_agg/phase.h"

namespace tacit::secagg {
namespace {

constexpr std::array<const char*, kPhaseCount> kPhaseNames = {
    "advertise_keys", "share_keys", "masked_input", "consistency_check", "unmasking"};

}  // namespace

const char* PhaseName(Phase phase) { return PhaseName(PhaseIndex(phase)); }

const char* PhaseName(int index) {
  if (index < 0 || index >= kPhaseCount) return "unknown";
  return kPhaseNames[static_cast<size_t>(index)];
}

std::optional<Phase> PhaseFromName(std::string_view name) {
  for (Phase phase : kAllPhases) {
    if (name == PhaseName(phase)) return phase;
  }
  return std::nullopt;
}

}  // namespace tacit::secagg
