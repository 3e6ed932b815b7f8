#include "simulations/federation/inspect_data.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tacit::sim {
namespace {

int64_t TrainWindows(const std::vector<int32_t>& train, const ExperimentConfig& config) {
  const int window = config.model.window;
  const int stride = config.training.stride > 0 ? config.training.stride : window;
  return static_cast<int64_t>(MakeWindows(train, window, stride).size()) / (window + 1);
}

// Evaluation scores test positions in blocks of max(1, window / 4), one window each.
int64_t TestWindows(const std::vector<int32_t>& test, const ExperimentConfig& config) {
  const int64_t block = std::max(1, config.model.window / 4);
  return (static_cast<int64_t>(test.size()) + block - 1) / block;
}

std::string Share(int64_t part, int64_t whole) {
  return whole == 0 ? "-" : absl::StrFormat("%.1f%%", 100.0 * part / whole);
}

}  // namespace

std::unordered_set<int32_t> PooledTrainTokens(const std::vector<PersonTokens>& people) {
  std::unordered_set<int32_t> pooled;
  for (const PersonTokens& p : people) pooled.insert(p.train.begin(), p.train.end());
  return pooled;
}

Coverage CoverageOf(const std::unordered_set<int32_t>& pooled, const PersonTokens& person) {
  std::unordered_set<int32_t> own(person.train.begin(), person.train.end());
  Coverage c;
  for (int32_t t : person.test) {
    ++c.test_tokens;
    c.in_vocabulary += pooled.count(t) > 0;
    c.in_own_train += own.count(t) > 0;
  }
  return c;
}

std::string InspectPopulation(const ExperimentConfig& config,
                              const std::vector<PersonTokens>& people,
                              const PopulationLoadReport& load) {
  const PopulationSpec& spec = config.population;
  std::string out = absl::StrCat(
      "population: ", people.size(), " people from ", spec.source,
      spec.path.empty() ? "" : absl::StrCat(" at ", spec.path), "\n",
      "event limit: ", DescribeEventLimit(load.event_limit),
      " (population.max_events_per_person = ", spec.max_events_per_person, "); ",
      DescribeLimitReached(load), "\n", "bad lines: ", DescribeSkippedLines(load),
      " (population.on_error = ", spec.on_error == OnBadLine::kSkip ? "skip" : "stop", ")\n",
      absl::StrFormat("split: the first %.0f%% of each person's tokens in time train, the rest "
                      "test (population.train_fraction = %g)\n",
                      100 * spec.train_fraction, spec.train_fraction),
      "vocabulary: ", config.task.vocab.size, " hashed tokens, salt \"", config.task.vocab.salt,
      "\"; window ", config.model.window, ", training stride ",
      config.training.stride > 0 ? config.training.stride : config.model.window, "\n\n");
  absl::StrAppendFormat(&out, "%-16s %10s %10s %10s %10s %10s %10s %10s %8s\n", "person", "events",
                        "skipped", "train tok", "test tok", "train win", "test win", "in-vocab",
                        "own");
  int64_t events = 0, train = 0, test = 0, train_windows = 0, test_windows = 0;
  Coverage total;
  const std::unordered_set<int32_t> pooled = PooledTrainTokens(people);
  for (size_t i = 0; i < people.size(); ++i) {
    const PersonTokens& p = people[i];
    const int64_t read = i < load.people.size() ? load.people[i].events : 0;
    const int64_t skipped = i < load.people.size() ? load.people[i].skipped_lines : 0;
    const Coverage c = CoverageOf(pooled, p);
    const int64_t tw = TrainWindows(p.train, config), ew = TestWindows(p.test, config);
    absl::StrAppendFormat(&out, "%-16s %10d %10d %10d %10d %10d %10d %10s %8s\n", p.person_id, read,
                          skipped, p.train.size(), p.test.size(), tw, ew,
                          Share(c.in_vocabulary, c.test_tokens),
                          Share(c.in_own_train, c.test_tokens));
    events += read, train += static_cast<int64_t>(p.train.size());
    test += static_cast<int64_t>(p.test.size()), train_windows += tw, test_windows += ew;
    total.test_tokens += c.test_tokens, total.in_vocabulary += c.in_vocabulary;
    total.in_own_train += c.in_own_train;
  }
  absl::StrAppendFormat(&out, "%-16s %10d %10d %10d %10d %10d %10d %10s %8s\n", "total", events,
                        load.skipped_lines, train, test, train_windows, test_windows,
                        Share(total.in_vocabulary, total.test_tokens),
                        Share(total.in_own_train, total.test_tokens));
  absl::StrAppendFormat(&out,
                        "\nin-vocab: test tokens that occur in some person's train part (OOV "
                        "%s: no model can have learned them); own: in the person's own train "
                        "part. Events are raw events read, before the privacy filter.\n",
                        Share(total.test_tokens - total.in_vocabulary, total.test_tokens));
  return out;
}

}  // namespace tacit::sim
