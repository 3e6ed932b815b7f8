#include "client/examples/population_source.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/generator/fleet_generator.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

absl::Status CheckIndex(size_t index, size_t size) {
  if (index >= size) {
    return absl::OutOfRangeError(
        absl::StrCat("no person ", index, ": the population has ", size, " people"));
  }
  return absl::OkStatus();
}

// SHA-256 hex of every person's id and tokens, in order (a population given as
// tokens has no source to fingerprint).
std::string TokensFingerprint(const std::vector<PersonTokens>& people) {
  Sha256Hasher data;
  for (const PersonTokens& person : people) {
    const uint64_t sizes[3] = {person.person_id.size(), person.train.size(), person.test.size()};
    data.Update(std::string_view(reinterpret_cast<const char*>(sizes), sizeof(sizes)));
    data.Update(person.person_id);
    for (const std::vector<int32_t>* part : {&person.train, &person.test}) {
      data.Update(std::string_view(reinterpret_cast<const char*>(part->data()),
                                   part->size() * sizeof(int32_t)));
    }
  }
  absl::StatusOr<Sha256Digest> digest = data.Finish();
  if (!digest.ok()) return absl::StrCat("unhashable: ", digest.status().message());
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest->data()), digest->size()));
}

}  // namespace

std::unique_ptr<LoadedPopulation> LoadedPopulation::View(const std::vector<PersonTokens>& people) {
  std::unique_ptr<LoadedPopulation> view(new LoadedPopulation());
  view->people_ = &people;  // its fingerprint is hashed only when asked for
  return view;
}

LoadedPopulation::LoadedPopulation(std::vector<PersonTokens> people, std::vector<bool> loaded,
                                   std::string fingerprint)
    : owned_(std::move(people)), loaded_(std::move(loaded)), fingerprint_(std::move(fingerprint)) {}

std::string LoadedPopulation::fingerprint() const {
  return fingerprint_.empty() ? TokensFingerprint(*people_) : fingerprint_;
}

std::string LoadedPopulation::PersonId(size_t index) const {
  return index < people_->size() ? (*people_)[index].person_id : std::string();
}

absl::StatusOr<std::shared_ptr<const PersonTokens>> LoadedPopulation::Materialize(
    size_t index) const {
  TACIT_RETURN_IF_ERROR(CheckIndex(index, people_->size()));
  if (!loaded_.empty() && !loaded_[index]) {
    return absl::FailedPreconditionError(
        absl::StrCat("person ", index, " (", (*people_)[index].person_id,
                     ") was not loaded in this process: it belongs to another MPI rank"));
  }
  // A view: no copy, nothing to free (the population outlives its users).
  return std::shared_ptr<const PersonTokens>(std::shared_ptr<const PersonTokens>(),
                                             &(*people_)[index]);
}

absl::StatusOr<std::unique_ptr<GeneratedPopulation>> GeneratedPopulation::Create(
    const PopulationSpec& spec) {
  if (spec.source != "generator") {
    return absl::InvalidArgumentError(
        absl::StrCat("a generated population needs source 'generator', not '", spec.source, "'"));
  }
  TACIT_ASSIGN_OR_RETURN(HashedVocabulary vocab, CheckPopulationSpec(spec));
  if (spec.people < 1) {
    return absl::InvalidArgumentError(
        "population source 'generator' needs people >= 1 (how many employees to generate)");
  }
  TACIT_ASSIGN_OR_RETURN(std::string fingerprint, PopulationFingerprint(spec));
  return std::unique_ptr<GeneratedPopulation>(
      new GeneratedPopulation(spec, std::move(vocab), std::move(fingerprint)));
}

std::string GeneratedPopulation::PersonId(size_t index) const {
  return FleetGenerator::PersonId(static_cast<int>(index));
}

int64_t GeneratedPopulation::events_per_person() const {
  return spec_.max_events_per_person > 0 ? spec_.max_events_per_person : kDefaultGeneratedEvents;
}

absl::StatusOr<std::shared_ptr<const PersonTokens>> GeneratedPopulation::Materialize(
    size_t index) const {
  TACIT_RETURN_IF_ERROR(CheckIndex(index, size()));
  TACIT_ASSIGN_OR_RETURN(PersonTokens tokens,
                         GeneratePerson(spec_, vocab_, static_cast<int>(index)));
  return std::make_shared<const PersonTokens>(std::move(tokens));
}

absl::StatusOr<std::unique_ptr<Population>> OpenPopulation(const PopulationSpec& spec,
                                                           PopulationLoadReport* report,
                                                           const PersonFilter& keep) {
  if (spec.source == "generator") {
    TACIT_ASSIGN_OR_RETURN(std::unique_ptr<GeneratedPopulation> generated,
                           GeneratedPopulation::Create(spec));
    if (report != nullptr) {
      *report = PopulationLoadReport{};
      report->event_limit = generated->events_per_person();
      report->generated = true;
    }
    return std::unique_ptr<Population>(std::move(generated));
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<PersonTokens> people, LoadPopulation(spec, report, keep));
  TACIT_ASSIGN_OR_RETURN(std::string fingerprint, PopulationFingerprint(spec));
  std::vector<bool> loaded;
  if (keep) {
    loaded.resize(people.size());
    for (size_t i = 0; i < people.size(); ++i) loaded[i] = keep(i);
  }
  return std::unique_ptr<Population>(std::make_unique<LoadedPopulation>(
      std::move(people), std::move(loaded), std::move(fingerprint)));
}

absl::StatusOr<std::vector<PersonTokens>> MaterializeAll(const Population& population) {
  std::vector<PersonTokens> people;
  people.reserve(population.size());
  for (size_t i = 0; i < population.size(); ++i) {
    TACIT_ASSIGN_OR_RETURN(std::shared_ptr<const PersonTokens> person, population.Materialize(i));
    people.push_back(*person);
  }
  return people;
}

}  // namespace tacit
