#pragma once

// A population as simulations see it: how many people, who they are, and a
// person's token streams on demand. Loaded populations (a data set folder)
// hold everyone's tokens, as LoadPopulation gives them; a generated one holds
// nothing per person (the fleet generator is deterministic per seed and
// index) and generates a person's events when asked, so 10^6 idle simulated
// people cost no memory and only the selected cohort's tokens exist at a time.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/examples/population.h"
#include "common/hashed_vocab.h"
#include "common/token_stream.h"

namespace tacit {

class Population {
 public:
  virtual ~Population() = default;

  virtual size_t size() const = 0;
  virtual std::string PersonId(size_t index) const = 0;
  // Person `index`'s tokens: a view of the loaded ones, or generated now (the
  // caller holds them while it trains or scores, then lets go). Thread-safe.
  // OutOfRange past size(); FailedPrecondition for a person this process did
  // not load (an MPI shard rank's view of someone else's person).
  virtual absl::StatusOr<std::shared_ptr<const PersonTokens>> Materialize(size_t index) const = 0;
  // True when Materialize generates (costly per call) rather than looks up.
  virtual bool generated() const = 0;
  // What MPI ranks compare to agree on the data: SHA-256 hex of the source's
  // layout (PopulationFingerprint) or, for a population given as tokens, of
  // every person's id and tokens.
  virtual std::string fingerprint() const = 0;
};

// People held as token streams: LoadPopulation's result (owned) or a caller's
// vector (viewed, which must outlive this).
class LoadedPopulation final : public Population {
 public:
  // Everyone loaded; the fingerprint hashes the tokens (when asked for).
  static std::unique_ptr<LoadedPopulation> View(const std::vector<PersonTokens>& people);
  // `loaded[i]` false: person i was not read here (no tokens); `fingerprint`
  // as PopulationFingerprint gives it (empty: hash the tokens).
  LoadedPopulation(std::vector<PersonTokens> people, std::vector<bool> loaded,
                   std::string fingerprint);

  size_t size() const override { return people_->size(); }
  std::string PersonId(size_t index) const override;
  absl::StatusOr<std::shared_ptr<const PersonTokens>> Materialize(size_t index) const override;
  bool generated() const override { return false; }
  // The source's fingerprint, or (none given) the hash of every token.
  std::string fingerprint() const override;
  // Every person's tokens, in order (empty for people not loaded here).
  const std::vector<PersonTokens>& people() const { return *people_; }

 private:
  LoadedPopulation() = default;
  std::vector<PersonTokens> owned_;
  const std::vector<PersonTokens>* people_ = &owned_;
  std::vector<bool> loaded_;  // empty: everyone
  std::string fingerprint_;
};

// The fleet generator's people, generated on demand: a few dozen bytes in
// all, none per idle person. Materialize(i) equals LoadPopulation(spec)[i].
class GeneratedPopulation final : public Population {
 public:
  // The spec's errors as LoadPopulation reports them.
  static absl::StatusOr<std::unique_ptr<GeneratedPopulation>> Create(const PopulationSpec& spec);

  size_t size() const override { return static_cast<size_t>(spec_.people); }
  std::string PersonId(size_t index) const override;
  absl::StatusOr<std::shared_ptr<const PersonTokens>> Materialize(size_t index) const override;
  bool generated() const override { return true; }
  std::string fingerprint() const override { return fingerprint_; }
  // Events generated per person (the generator's length).
  int64_t events_per_person() const;

 private:
  GeneratedPopulation(PopulationSpec spec, HashedVocabulary vocab, std::string fingerprint)
      : spec_(std::move(spec)), vocab_(std::move(vocab)), fingerprint_(std::move(fingerprint)) {}
  PopulationSpec spec_;
  HashedVocabulary vocab_;
  std::string fingerprint_;
};

// The population `spec` names: generated lazily for the generator, loaded for
// a folder (only the people `keep` accepts, when given: the others have an id
// and no tokens). `report` as LoadPopulation fills it (a generated population
// lists nobody: nobody was generated yet).
absl::StatusOr<std::unique_ptr<Population>> OpenPopulation(const PopulationSpec& spec,
                                                           PopulationLoadReport* report = nullptr,
                                                           const PersonFilter& keep = nullptr);

// Every person's tokens, in order (generating each for a generated
// population): for the tools that need everyone at once (gRPC fleet,
// personalization, inspect-data).
absl::StatusOr<std::vector<PersonTokens>> MaterializeAll(const Population& population);

}  // namespace tacit
