#include "client/synthetic_activity.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/generator/fleet_generator.h"
#include "client/privacy_filter.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace tacit {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

}  // namespace

absl::StatusOr<SyntheticActivity> GenerateSyntheticActivity(
    const std::string& dir, EventStore& store, const PrivacyPolicy& policy,
    const SyntheticActivityOptions& options) {
  if (options.days < 1 || options.days > store.retention_days()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--days ", options.days, " is outside [1, ", store.retention_days(),
                     "] (older events would fall out of the store's retention window)"));
  }
  if (options.max_events < 1 || options.person < 0) {
    return absl::InvalidArgumentError("--max-events must be >= 1 and --person >= 0");
  }
  // The generator's days start at a fixed date; keep `days` of them.
  std::vector<RawEvent> raw;
  int64_t start_ms = -1;
  const absl::Status stop = absl::CancelledError("enough days");
  FleetGenerator generator(options.seed);
  absl::Status generated =
      generator.Generate(options.person, options.max_events, [&](const RawEvent& event) {
        if (start_ms < 0) start_ms = event.time_ms;
        if (event.time_ms - start_ms >= options.days * kDayMs) return stop;
        raw.push_back(event);
        return absl::OkStatus();
      });
  if (!generated.ok() && generated != stop) return generated;
  SyntheticActivity out;
  out.generated = static_cast<int64_t>(raw.size());
  out.persona = std::string(PersonaName(FleetGenerator::PersonaOf(options.person)));
  if (raw.empty()) return out;
  // Ends now: inside the retention window, and after anything stored before.
  const int64_t shift = options.now_ms - raw.back().time_ms;
  PrivacyFilter filter(policy);
  std::vector<Event> kept;
  for (RawEvent& event : raw) {
    event.time_ms += shift;
    if (std::optional<Event> stored = filter.Apply(event)) kept.push_back(*std::move(stored));
  }
  TACIT_RETURN_IF_ERROR(store.Append(kept));
  out.stored = static_cast<int64_t>(kept.size());
  out.first_ms = raw.front().time_ms;
  out.last_ms = raw.back().time_ms;

  SyntheticActivity total = out;
  if (std::optional<SyntheticActivity> earlier = LoadSyntheticMarker(dir)) {
    total.generated += earlier->generated;
    total.stored += earlier->stored;
    total.first_ms = std::min(total.first_ms, earlier->first_ms);
    if (earlier->persona != out.persona) total.persona = earlier->persona + ", " + out.persona;
  }
  const nlohmann::json marker = {{"generated", total.generated},
                                 {"stored", total.stored},
                                 {"persona", total.persona},
                                 {"first_ms", total.first_ms},
                                 {"last_ms", total.last_ms}};
  TACIT_RETURN_IF_ERROR(
      WriteFileAtomically(dir + "/" + kSyntheticMarkerFile, marker.dump(2) + "\n", 0600));
  return out;
}

std::optional<SyntheticActivity> LoadSyntheticMarker(const std::string& dir) {
  absl::StatusOr<std::string> text = ReadFileToString(dir + "/" + kSyntheticMarkerFile);
  if (!text.ok()) return std::nullopt;
  absl::StatusOr<nlohmann::json> json = ParseJson(*text, kSyntheticMarkerFile);
  if (!json.ok() || !json->is_object()) return std::nullopt;
  SyntheticActivity s;
  s.generated = json->value("generated", int64_t{0});
  s.stored = json->value("stored", int64_t{0});
  s.persona = json->value("persona", std::string());
  s.first_ms = json->value("first_ms", int64_t{0});
  s.last_ms = json->value("last_ms", int64_t{0});
  return s;
}

}  // namespace tacit
