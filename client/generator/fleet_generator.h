#pragma once

// A deterministic synthetic fleet: N employees of five personas (developer,
// analyst, support agent, designer, manager), each with the persona's apps,
// workflows, shortcuts, typing bursts, clicks on screen regions and app
// switches, and a person-specific variation of all of them (seeded), so the
// fleet is non-IID like a real one. It emits RawEvents (typed characters,
// window titles, full command lines, secure-input periods included) so the
// privacy filter is exercised exactly as with a real collector.
// Same seed and index -> the same events, on every platform (own samplers
// over std::mt19937_64, whose sequence the C++ standard fixes).

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/importers/importers.h"

namespace tacit {

enum class Persona { kDeveloper = 0, kAnalyst, kSupportAgent, kDesigner, kManager };
inline constexpr int kPersonaCount = 5;
absl::string_view PersonaName(Persona persona);

class FleetGenerator {
 public:
  explicit FleetGenerator(uint64_t seed) : seed_(seed) {}

  // Person i has persona i % 5, so any 5 consecutive people cover all five.
  static Persona PersonaOf(int index) { return static_cast<Persona>(index % kPersonaCount); }
  // "p0007-developer"
  static std::string PersonId(int index);

  // Streams person `index`'s raw events in time order until `max_events`
  // events were emitted (a working day starting at a fixed date, 09:00 UTC,
  // continuing over following days if needed). InvalidArgument for a
  // negative index or max_events < 1; a sink error stops and is returned.
  absl::Status Generate(int index, int64_t max_events, const RawEventSink& sink) const;

 private:
  uint64_t seed_;
};

}  // namespace tacit
