#pragma once

// A population of people as token streams, from a real data set folder or the
// fleet generator: the entry point simulations and model experiments use.
// Path: events -> privacy filter (default policy) -> feature strings
// ("cmd:ls", "key:letter", "chord:ctrl+c", "app:code", "click:r3c2") ->
// HashedVocabulary tokens -> SplitInTime. Torch-free; no store involved.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/importers/importers.h"
#include "common/hashed_vocab.h"
#include "common/token_stream.h"

namespace tacit {

struct PopulationSpec {
  std::string
      source;  // "sea-commands" | "aalto-keystrokes" | "balabit-mouse" | "generator" | "jsonl"
  std::string path;   // folder of per-person logs (not generator)
  int people = 0;     // generator: how many; folders: 0 = all, else the first N (natural order)
  uint64_t seed = 1;  // generator
  // Raw events read per person; 0 = every event of every file, for every
  // folder source (SEA's published setup, the first 5,000 commands of each
  // user, is kSeaCleanCommands set explicitly). Generator: 0 =
  // kDefaultGeneratedEvents (it has no "everything").
  int max_events_per_person = 0;
  double train_fraction = 0.8;
  uint32_t vocab_size = 4096;
  std::string vocab_salt;
  // A malformed line stops loading (naming file, line and content) or is
  // skipped and counted in the load report.
  OnBadLine on_error = OnBadLine::kStop;
};

inline constexpr int kSeaCleanCommands = 5000;
inline constexpr int kDefaultGeneratedEvents = 5000;

// What loading did, for the console and the run's summary.
struct PersonLoadReport {
  std::string person_id;
  int64_t events = 0;         // raw events read (before the privacy filter)
  int64_t skipped_lines = 0;  // malformed lines skipped (on_error skip)
  // Stopped at max_events_per_person with more to read; always false for the
  // generator, which has no more to read (it makes exactly the limit).
  bool reached_limit = false;
};
struct PopulationLoadReport {
  int64_t event_limit = 0;  // events per person in effect; 0 = everything
  bool generated = false;   // the fleet generator: the limit is its length, not a cut
  std::vector<PersonLoadReport> people;
  int64_t skipped_lines = 0;                // all people
  std::vector<std::string> first_problems;  // up to 5 "file:line: what" of skipped lines
  int people_limited() const;               // how many stopped at the limit
};

// "every event" or "the first 5,000 events per person": the limit in effect.
std::string DescribeEventLimit(int64_t limit);
// "3 of 40 people stopped at the limit with more to read", or for the
// generator "nobody cut off" (it makes exactly that many: the limit is its
// length, not a cut).
std::string DescribeLimitReached(const PopulationLoadReport& report);
// "4,200 bad lines skipped (on_error skip), first: f:3: ..." or "none skipped".
std::string DescribeSkippedLines(const PopulationLoadReport& report);

// One PersonTokens per person, in the folder's natural order (or generator
// index order). Errors: unknown source, missing folder, malformed logs (the
// importer's file:line message, the line's content and how to skip it), bad
// vocabulary size or train fraction. `report`, when given, receives the limit
// in effect and the per-person counts.
absl::StatusOr<std::vector<PersonTokens>> LoadPopulation(const PopulationSpec& spec,
                                                         PopulationLoadReport* report = nullptr);

// Which people of a population to read: the others keep their person_id and
// no tokens (an MPI shard rank reads only the people it owns).
using PersonFilter = std::function<bool(size_t index)>;
// LoadPopulation for the people `keep` accepts (null: everyone). The report
// lists only the people read.
absl::StatusOr<std::vector<PersonTokens>> LoadPopulation(const PopulationSpec& spec,
                                                         PopulationLoadReport* report,
                                                         const PersonFilter& keep);

// The generator's person `index` exactly as LoadPopulation makes it (the fleet
// generator is deterministic per seed and index), with `counts` filled when
// given. `vocab` is the spec's vocabulary (HashedVocabulary::Create).
absl::StatusOr<PersonTokens> GeneratePerson(const PopulationSpec& spec,
                                            const HashedVocabulary& vocab, int index,
                                            PersonLoadReport* counts = nullptr);

// InvalidArgument for a vocabulary, train fraction, limit or count that
// LoadPopulation would refuse; otherwise the spec's vocabulary.
absl::StatusOr<HashedVocabulary> CheckPopulationSpec(const PopulationSpec& spec);

// SHA-256 (hex) of a folder population's layout: every person's id, file names
// and file sizes, in order, without reading the files (what MPI ranks compare
// so that none reads everyone's logs). Generator: of the spec's generator
// settings.
absl::StatusOr<std::string> PopulationFingerprint(const PopulationSpec& spec);

}  // namespace tacit
