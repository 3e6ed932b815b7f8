#include "client/examples/population.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/generator/fleet_generator.h"
#include "client/importers/importers.h"
#include "client/privacy_filter.h"
#include "common/event_features.h"
#include "common/hashed_vocab.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

// One person's raw events -> privacy filter -> tokens.
class PersonTokenizer {
 public:
  explicit PersonTokenizer(const HashedVocabulary& vocab) : tokenizer_(vocab) {}
  RawEventSink Sink() {
    return [this](const RawEvent& raw) {
      if (auto event = filter_.Apply(raw)) tokenizer_.Add(*event, &stream_);
      return absl::OkStatus();
    };
  }
  std::vector<int32_t> Take() { return std::move(stream_); }

 private:
  PrivacyFilter filter_;
  EventTokenizer tokenizer_;
  std::vector<int32_t> stream_;
};

absl::StatusOr<std::vector<PersonTokens>> LoadGenerated(const PopulationSpec& spec,
                                                        const HashedVocabulary& vocab) {
  if (spec.people < 1) {
    return absl::InvalidArgumentError(
        "population source 'generator' needs people >= 1 (how many employees to generate)");
  }
  const int64_t budget =
      spec.max_events_per_person > 0 ? spec.max_events_per_person : kDefaultGeneratedEvents;
  FleetGenerator fleet(spec.seed);
  std::vector<PersonTokens> out;
  out.reserve(static_cast<size_t>(spec.people));
  for (int i = 0; i < spec.people; ++i) {
    PersonTokenizer person(vocab);
    TACIT_RETURN_IF_ERROR(fleet.Generate(i, budget, person.Sink()));
    TACIT_ASSIGN_OR_RETURN(PersonTokens tokens, SplitInTime(FleetGenerator::PersonId(i),
                                                            person.Take(), spec.train_fraction));
    out.push_back(std::move(tokens));
  }
  return out;
}

absl::StatusOr<std::vector<PersonTokens>> LoadFolder(const PopulationSpec& spec,
                                                     const HashedVocabulary& vocab) {
  absl::StatusOr<DataFormat> format_or = ParseDataFormat(spec.source);
  if (!format_or.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown population source '", spec.source,
        "'; expected sea-commands, aalto-keystrokes, balabit-mouse, jsonl or generator"));
  }
  const DataFormat format = *format_or;
  if (spec.path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("population source '", spec.source, "' needs a folder path"));
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<PersonLogs> people, ListPeople(format, spec.path));
  if (spec.people > 0 && static_cast<size_t>(spec.people) < people.size()) {
    people.resize(static_cast<size_t>(spec.people));
  }
  int64_t budget = spec.max_events_per_person;
  if (budget == 0 && format == DataFormat::kSeaCommands) budget = kSeaCleanCommands;

  std::vector<PersonTokens> out;
  out.reserve(people.size());
  for (const PersonLogs& person : people) {
    PersonTokenizer tokenizer(vocab);
    const RawEventSink sink = tokenizer.Sink();
    int64_t read = 0;
    for (const std::string& file : person.files) {
      ImportOptions options;
      if (budget > 0) {
        if (read >= budget) break;
        options.max_events = budget - read;
      }
      TACIT_ASSIGN_OR_RETURN(ImportReport report, ImportFile(format, file, options, sink));
      read += report.events;
    }
    TACIT_ASSIGN_OR_RETURN(PersonTokens tokens,
                           SplitInTime(person.person_id, tokenizer.Take(), spec.train_fraction));
    out.push_back(std::move(tokens));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<PersonTokens>> LoadPopulation(const PopulationSpec& spec) {
  TACIT_ASSIGN_OR_RETURN(HashedVocabulary vocab,
                         HashedVocabulary::Create(spec.vocab_size, spec.vocab_salt));
  if (!(spec.train_fraction > 0.0 && spec.train_fraction < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("train fraction ", spec.train_fraction, " must be strictly between 0 and 1"));
  }
  if (spec.max_events_per_person < 0 || spec.people < 0) {
    return absl::InvalidArgumentError("people and max_events_per_person must be >= 0");
  }
  if (spec.source == "generator") return LoadGenerated(spec, vocab);
  return LoadFolder(spec, vocab);
}

}  // namespace tacit
