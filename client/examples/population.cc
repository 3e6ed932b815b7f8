#include "client/examples/population.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/importers/importers.h"
#include "client/privacy_filter.h"
#include "common/event_features.h"
#include "common/hashed_vocab.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

absl::StatusOr<std::vector<PersonTokens>> LoadFolder(const PopulationSpec& spec,
                                                     const HashedVocabulary& vocab) {
  TACIT_ASSIGN_OR_RETURN(DataFormat format, ParseDataFormat(spec.source));
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
    PrivacyFilter filter;
    EventTokenizer tokenizer(vocab);
    std::vector<int32_t> stream;
    int64_t read = 0;
    for (const std::string& file : person.files) {
      ImportOptions options;
      if (budget > 0) {
        if (read >= budget) break;
        options.max_events = budget - read;
      }
      TACIT_ASSIGN_OR_RETURN(ImportReport report,
                             ImportFile(format, file, options, [&](const RawEvent& raw) {
                               if (auto event = filter.Apply(raw)) tokenizer.Add(*event, &stream);
                               return absl::OkStatus();
                             }));
      read += report.events;
    }
    TACIT_ASSIGN_OR_RETURN(PersonTokens tokens,
                           SplitInTime(person.person_id, std::move(stream), spec.train_fraction));
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
  return LoadFolder(spec, vocab);
}

}  // namespace tacit
