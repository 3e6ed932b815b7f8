#pragma once

// A population of people as token streams, from a real data set folder or the
// fleet generator: the entry point simulations and model experiments use.
// Path: events -> privacy filter (default policy) -> feature strings
// ("cmd:ls", "key:letter", "chord:ctrl+c", "app:code", "click:r3c2") ->
// HashedVocabulary tokens -> SplitInTime. Torch-free; no store involved.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/token_stream.h"

namespace tacit {

struct PopulationSpec {
  std::string
      source;  // "sea-commands" | "aalto-keystrokes" | "balabit-mouse" | "generator" | "jsonl"
  std::string path;   // folder of per-person logs (not generator)
  int people = 0;     // generator: how many; folders: 0 = all, else the first N (natural order)
  uint64_t seed = 1;  // generator
  // Raw events read per person; 0 = all, except sea-commands where 0 means the
  // first 5,000 (each user's own commands; later blocks hold masquerades).
  // Generator: 0 = kDefaultGeneratedEvents.
  int max_events_per_person = 0;
  double train_fraction = 0.8;
  uint32_t vocab_size = 4096;
  std::string vocab_salt;
};

inline constexpr int kSeaCleanCommands = 5000;
inline constexpr int kDefaultGeneratedEvents = 5000;

// One PersonTokens per person, in the folder's natural order (or generator
// index order). Errors: unknown source, missing folder, malformed logs (the
// importer's file:line message), bad vocabulary size or train fraction.
absl::StatusOr<std::vector<PersonTokens>> LoadPopulation(const PopulationSpec& spec);

}  // namespace tacit
