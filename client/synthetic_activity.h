#pragma once

// Synthetic activity for a laptop with no data of its own (a trial, a demo,
// a quick start): the built-in fleet generator's events for one persona,
// moved so they end now, through the owner's privacy filter into the local
// store, exactly as a collector's would go. The store remembers that it
// holds them (synthetic.json), so `inspect` says so: a model trained on it
// learns the generator's habits, not the owner's.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/privacy_policy.h"
#include "client/store/event_store.h"

namespace tacit {

struct SyntheticActivityOptions {
  int days = 1;                // working days of activity, ending now
  int64_t max_events = 20000;  // stops earlier when reached
  int person = 0;              // the generator's person index (persona = person % 5)
  uint64_t seed = 1;           // the generator's seed
  int64_t now_ms = 0;
};

struct SyntheticActivity {
  int64_t generated = 0;  // raw events the generator emitted
  int64_t stored = 0;     // kept by the privacy filter and stored
  std::string persona;
  int64_t first_ms = 0, last_ms = 0;  // stored time span
};

// Generates, filters, stores and records the marker (adding to an earlier
// one). InvalidArgument for days outside [1, the store's retention] or
// max_events < 1.
absl::StatusOr<SyntheticActivity> GenerateSyntheticActivity(
    const std::string& dir, EventStore& store, const PrivacyPolicy& policy,
    const SyntheticActivityOptions& options);

// The marker's totals (kSyntheticMarkerFile, event_store.h), or none when
// the store holds no synthetic events. DataLoss naming the file and what to
// do when it is not the object generate-activity writes.
absl::StatusOr<std::optional<SyntheticActivity>> LoadSyntheticMarker(const std::string& dir);

}  // namespace tacit
