#pragma once

// The five phases of a secure aggregation round, in order, and their one name
// table. Everything that counts, logs, reports or parses a phase (server,
// client, coordinator, simulator, benchmarks, the audit log) uses these.

#include <array>
#include <optional>
#include <string_view>

namespace tacit::secagg {

enum class Phase : int {
  kAdvertiseKeys = 0,
  kShareKeys,
  kMaskedInput,
  kConsistencyCheck,  // every client signs the survivor list (Bonawitz et al. 2017, Sec. 6)
  kUnmasking,
};

inline constexpr int kPhaseCount = 5;
inline constexpr std::array<Phase, kPhaseCount> kAllPhases = {
    Phase::kAdvertiseKeys, Phase::kShareKeys, Phase::kMaskedInput, Phase::kConsistencyCheck,
    Phase::kUnmasking};

// Machine names, as in configs, logs, metrics labels and reports:
// "advertise_keys", "share_keys", "masked_input", "consistency_check",
// "unmasking".
const char* PhaseName(Phase phase);
// The same by index 0..4; "unknown" outside it.
const char* PhaseName(int index);
// The inverse of PhaseName; nullopt for any other string.
std::optional<Phase> PhaseFromName(std::string_view name);

inline constexpr int PhaseIndex(Phase phase) { return static_cast<int>(phase); }

}  // namespace tacit::secagg
