#include "client/examples/population.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "client/generator/fleet_generator.h"
#include "client/importers/importers.h"
#include "client/privacy_filter.h"
#include "common/event_features.h"
#include "common/hashed_vocab.h"
#include "common/sha256.h"
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

int64_t GeneratedEvents(const PopulationSpec& spec) {
  return spec.max_events_per_person > 0 ? spec.max_events_per_person : kDefaultGeneratedEvents;
}

absl::StatusOr<std::vector<PersonTokens>> LoadGenerated(const PopulationSpec& spec,
                                                        const HashedVocabulary& vocab,
                                                        PopulationLoadReport& report,
                                                        const PersonFilter& keep) {
  if (spec.people < 1) {
    return absl::InvalidArgumentError(
        "population source 'generator' needs people >= 1 (how many employees to generate)");
  }
  report.event_limit = GeneratedEvents(spec);
  report.generated = true;
  std::vector<PersonTokens> out;
  out.reserve(static_cast<size_t>(spec.people));
  for (int i = 0; i < spec.people; ++i) {
    if (keep && !keep(static_cast<size_t>(i))) {
      out.push_back(PersonTokens{FleetGenerator::PersonId(i), {}, {}});
      continue;
    }
    PersonLoadReport counts;
    TACIT_ASSIGN_OR_RETURN(PersonTokens tokens, GeneratePerson(spec, vocab, i, &counts));
    report.people.push_back(std::move(counts));
    out.push_back(std::move(tokens));
  }
  return out;
}

// What to do about a malformed line, in the words of the tools that load
// populations (the importer's default names tacit-client import).
constexpr char kSkipHint[] =
    "fix the line, or skip bad lines and count them: population.on_error \"skip\" in a "
    "tacit-sim config, --on-error skip for tacit-central";

// The folder's people in natural order, cut to spec.people.
absl::StatusOr<std::vector<PersonLogs>> ListFolderPeople(const PopulationSpec& spec) {
  absl::StatusOr<DataFormat> format_or = ParseDataFormat(spec.source);
  if (!format_or.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown population source '", spec.source,
        "'; expected sea-commands, aalto-keystrokes, balabit-mouse, jsonl or generator"));
  }
  if (spec.path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("population source '", spec.source, "' needs a folder path"));
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<PersonLogs> people, ListPeople(*format_or, spec.path));
  if (spec.people > 0 && static_cast<size_t>(spec.people) < people.size()) {
    people.resize(static_cast<size_t>(spec.people));
  }
  return people;
}

absl::StatusOr<std::vector<PersonTokens>> LoadFolder(const PopulationSpec& spec,
                                                     const HashedVocabulary& vocab,
                                                     PopulationLoadReport& report,
                                                     const PersonFilter& keep) {
  TACIT_ASSIGN_OR_RETURN(std::vector<PersonLogs> people, ListFolderPeople(spec));
  TACIT_ASSIGN_OR_RETURN(DataFormat format, ParseDataFormat(spec.source));
  const int64_t budget = spec.max_events_per_person;  // 0: everything
  report.event_limit = budget;

  std::vector<PersonTokens> out;
  out.reserve(people.size());
  for (size_t index = 0; index < people.size(); ++index) {
    const PersonLogs& person = people[index];
    if (keep && !keep(index)) {
      out.push_back(PersonTokens{person.person_id, {}, {}});
      continue;
    }
    PersonTokenizer tokenizer(vocab);
    const RawEventSink sink = tokenizer.Sink();
    PersonLoadReport counts;
    counts.person_id = person.person_id;
    for (const std::string& file : person.files) {
      ImportOptions options;
      options.on_bad_line = spec.on_error;
      options.bad_line_hint = kSkipHint;
      options.quote_bad_lines = true;  // a research data set: show what to fix
      if (budget > 0) {
        if (counts.events >= budget) {
          counts.reached_limit = true;
          break;
        }
        options.max_events = budget - counts.events;
      }
      TACIT_ASSIGN_OR_RETURN(ImportReport imported, ImportFile(format, file, options, sink));
      counts.events += imported.events;
      counts.skipped_lines += imported.skipped_lines;
      counts.reached_limit = counts.reached_limit || imported.stopped_at_limit;
      for (const std::string& problem : imported.first_problems) {
        if (report.first_problems.size() < 5) report.first_problems.push_back(problem);
      }
    }
    report.skipped_lines += counts.skipped_lines;
    report.people.push_back(std::move(counts));
    TACIT_ASSIGN_OR_RETURN(PersonTokens tokens,
                           SplitInTime(person.person_id, tokenizer.Take(), spec.train_fraction));
    out.push_back(std::move(tokens));
  }
  return out;
}

}  // namespace

int PopulationLoadReport::people_limited() const {
  int limited = 0;
  for (const PersonLoadReport& p : people) limited += p.reached_limit;
  return limited;
}

std::string DescribeEventLimit(int64_t limit) {
  if (limit <= 0) return "every event of every person";
  std::string digits = absl::StrCat(limit), grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return absl::StrCat("the first ", grouped, " events per person");
}

std::string DescribeLimitReached(const PopulationLoadReport& report) {
  if (report.generated) {
    return "nobody cut off: the generator makes exactly that many events per person";
  }
  return absl::StrCat(report.people_limited(), " of ", report.people.size(),
                      " people stopped at the limit with more to read");
}

std::string DescribeSkippedLines(const PopulationLoadReport& report) {
  if (report.skipped_lines == 0) return "no bad lines skipped";
  std::string out = absl::StrCat(report.skipped_lines, " bad lines skipped");
  if (!report.first_problems.empty())
    absl::StrAppend(&out, " (first: ", report.first_problems[0], ")");
  return out;
}

absl::StatusOr<HashedVocabulary> CheckPopulationSpec(const PopulationSpec& spec) {
  TACIT_ASSIGN_OR_RETURN(HashedVocabulary vocab,
                         HashedVocabulary::Create(spec.vocab_size, spec.vocab_salt));
  if (!(spec.train_fraction > 0.0 && spec.train_fraction < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("train fraction ", spec.train_fraction, " must be strictly between 0 and 1"));
  }
  if (spec.max_events_per_person < 0 || spec.people < 0) {
    return absl::InvalidArgumentError("people and max_events_per_person must be >= 0");
  }
  return vocab;
}

absl::StatusOr<PersonTokens> GeneratePerson(const PopulationSpec& spec,
                                            const HashedVocabulary& vocab, int index,
                                            PersonLoadReport* counts) {
  PersonTokenizer person(vocab);
  const RawEventSink tokenize = person.Sink();
  int64_t events = 0;
  TACIT_RETURN_IF_ERROR(
      FleetGenerator(spec.seed).Generate(index, GeneratedEvents(spec), [&](const RawEvent& raw) {
        ++events;  // what the generator made, not what was asked of it
        return tokenize(raw);
      }));
  // A generator has nothing more to read: it makes exactly the events asked
  // for, so the limit is its length, never a cut (reached_limit stays false).
  if (counts != nullptr) {
    counts->person_id = FleetGenerator::PersonId(index);
    counts->events = events;
  }
  return SplitInTime(FleetGenerator::PersonId(index), person.Take(), spec.train_fraction);
}

absl::StatusOr<std::vector<PersonTokens>> LoadPopulation(const PopulationSpec& spec,
                                                         PopulationLoadReport* report) {
  return LoadPopulation(spec, report, nullptr);
}

absl::StatusOr<std::vector<PersonTokens>> LoadPopulation(const PopulationSpec& spec,
                                                         PopulationLoadReport* report,
                                                         const PersonFilter& keep) {
  PopulationLoadReport ignored;
  PopulationLoadReport& counts = report != nullptr ? *report : ignored;
  counts = PopulationLoadReport{};
  TACIT_ASSIGN_OR_RETURN(HashedVocabulary vocab, CheckPopulationSpec(spec));
  if (spec.source == "generator") return LoadGenerated(spec, vocab, counts, keep);
  return LoadFolder(spec, vocab, counts, keep);
}

absl::StatusOr<std::string> PopulationFingerprint(const PopulationSpec& spec) {
  if (spec.source == "generator") {
    return Sha256Hex(absl::StrCat("generator seed ", spec.seed, " people ", spec.people, " events ",
                                  GeneratedEvents(spec)));
  }
  TACIT_ASSIGN_OR_RETURN(std::vector<PersonLogs> people, ListFolderPeople(spec));
  std::string layout;
  for (const PersonLogs& person : people) {
    absl::StrAppend(&layout, person.person_id, "\n");
    for (const std::string& file : person.files) {
      std::error_code error;
      const uintmax_t bytes = std::filesystem::file_size(file, error);
      if (error) {
        return absl::NotFoundError(
            absl::StrCat("cannot read the size of ", file, ": ", error.message()));
      }
      absl::StrAppend(&layout, std::filesystem::path(file).filename().string(), " ", bytes, "\n");
    }
  }
  return Sha256Hex(layout);
}

}  // namespace tacit
