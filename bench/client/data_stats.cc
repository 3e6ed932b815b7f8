// Compares the fleet generator's statistics with the real logs: events per
// active minute, key presses and mouse events per minute, clicks per minute,
// app switches per hour, typing rhythm, and shell command variety (SEA).
// Active time = the sum of gaps between consecutive events shorter than five
// minutes, the same rule for every source. docs/data.md records the output.
//
// Usage: build/bench/client_data_stats [DATA_DIR] [GENERATED_PEOPLE_PER_PERSONA]
// A tool more than a bench: it prints its table to stdout as before; unknown
// flags exit 2 and --help prints the usage (bench/common/flags.h).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "bench/common/flags.h"
#include "client/generator/fleet_generator.h"
#include "client/importers/importers.h"
#include "client/privacy_filter.h"

namespace {

using tacit::Event;
using tacit::EventKind;

constexpr int64_t kActiveGapMs = 5 * 60 * 1000;

// Accumulates one person's filtered events.
struct PersonStats {
  int64_t events = 0, keys = 0, mouse = 0, clicks = 0, switches = 0, commands = 0;
  int64_t active_ms = 0, last_ms = -1, last_key_ms = -1;
  std::vector<int64_t> key_gaps;
  std::map<std::string, int64_t> command_counts;

  void Add(const Event& e) {
    ++events;
    if (last_ms >= 0 && e.time_ms >= last_ms && e.time_ms - last_ms < kActiveGapMs) {
      active_ms += e.time_ms - last_ms;
    }
    last_ms = e.time_ms;
    switch (e.kind) {
      case EventKind::kKeyPress:
      case EventKind::kShortcut:
        ++keys;
        if (last_key_ms >= 0 && e.time_ms > last_key_ms && e.time_ms - last_key_ms < 2000) {
          key_gaps.push_back(e.time_ms - last_key_ms);
        }
        last_key_ms = e.time_ms;
        break;
      case EventKind::kMouseDown:
        ++clicks;
        ++mouse;
        break;
      case EventKind::kMouseUp:
      case EventKind::kMouseMove:
      case EventKind::kDrag:
      case EventKind::kScroll:
        ++mouse;
        break;
      case EventKind::kAppFocus:
        ++switches;
        break;
      case EventKind::kShellCommand:
        ++commands;
        ++command_counts[e.command];
        break;
      default:
        break;
    }
  }
  double Minutes() const { return static_cast<double>(active_ms) / 60000.0; }
};

struct Summary {
  std::string source;
  int people = 0;
  double events_per_min = 0, keys_per_min = 0, mouse_per_min = 0, clicks_per_min = 0,
         switches_per_hour = 0, median_key_gap = 0, distinct_commands = 0, top_command_share = 0;
  bool has_time = true, has_apps = false, has_commands = false;
};

Summary Summarize(const std::string& source, const std::vector<PersonStats>& people) {
  Summary s;
  s.source = source;
  s.people = static_cast<int>(people.size());
  int timed = 0, with_commands = 0;
  for (const PersonStats& p : people) {
    if (p.switches > 0) s.has_apps = true;
    if (p.commands > 0) {
      ++with_commands;
      int64_t top = 0;
      for (const auto& [name, n] : p.command_counts) top = std::max(top, n);
      s.distinct_commands += static_cast<double>(p.command_counts.size());
      s.top_command_share += static_cast<double>(top) / static_cast<double>(p.commands);
    }
    if (p.Minutes() <= 0) continue;
    ++timed;
    s.events_per_min += static_cast<double>(p.events) / p.Minutes();
    s.keys_per_min += static_cast<double>(p.keys) / p.Minutes();
    s.mouse_per_min += static_cast<double>(p.mouse) / p.Minutes();
    s.clicks_per_min += static_cast<double>(p.clicks) / p.Minutes();
    s.switches_per_hour += static_cast<double>(p.switches) / (p.Minutes() / 60.0);
    std::vector<int64_t> gaps = p.key_gaps;
    if (!gaps.empty()) {
      std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2),
                       gaps.end());
      s.median_key_gap += static_cast<double>(gaps[gaps.size() / 2]);
    }
  }
  s.has_time = timed > 0;
  s.has_commands = with_commands > 0;
  for (double* v : {&s.events_per_min, &s.keys_per_min, &s.mouse_per_min, &s.clicks_per_min,
                    &s.switches_per_hour, &s.median_key_gap}) {
    *v /= std::max(timed, 1);
  }
  s.distinct_commands /= std::max(with_commands, 1);
  s.top_command_share /= std::max(with_commands, 1);
  return s;
}

std::vector<PersonStats> ReadFolder(tacit::DataFormat format, const std::string& dir,
                                    int64_t max_events) {
  std::vector<PersonStats> out;
  auto people = tacit::ListPeople(format, dir);
  if (!people.ok()) {
    std::fprintf(stderr, "skipping %s: %s\n", dir.c_str(),
                 std::string(people.status().message()).c_str());
    return out;
  }
  for (const tacit::PersonLogs& person : *people) {
    PersonStats stats;
    tacit::PrivacyFilter filter;
    for (const std::string& file : person.files) {
      tacit::ImportOptions options;
      options.max_events = max_events;
      auto report = tacit::ImportFile(format, file, options, [&](const tacit::RawEvent& raw) {
        if (auto e = filter.Apply(raw)) stats.Add(*e);
        return absl::OkStatus();
      });
      if (!report.ok()) {
        std::fprintf(stderr, "%s\n", std::string(report.status().message()).c_str());
        std::exit(1);
      }
    }
    out.push_back(std::move(stats));
  }
  return out;
}

std::string Cell(bool present, double value, const char* format) {
  if (!present) return "n/a";
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("TACIT_SHARED_DATA_DIR");
  std::string data = env != nullptr ? env : "../shared/data";
  int per_persona = 6;
  CLI::App app{"The fleet generator's statistics beside the real logs'", "client_data_stats"};
  app.add_option("data_dir", data, "the shared data folder")->capture_default_str();
  app.add_option("people_per_persona", per_persona, "generated people per persona")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  if (auto exit_code = tacit::bench::ParseFlags(app, argc, argv)) return *exit_code;
  std::vector<Summary> rows;
  rows.push_back(Summarize("sea-commands (first 5,000)", ReadFolder(tacit::DataFormat::kSeaCommands,
                                                                    data + "/sea-commands", 5000)));
  rows.back().has_time = false;
  rows.push_back(Summarize("aalto-keystrokes", ReadFolder(tacit::DataFormat::kAaltoKeystrokes,
                                                          data + "/aalto-keystrokes", 0)));
  rows.push_back(Summarize(
      "balabit-mouse", ReadFolder(tacit::DataFormat::kBalabitMouse, data + "/balabit-mouse", 0)));
  tacit::FleetGenerator fleet(1);
  for (int persona = 0; persona < tacit::kPersonaCount; ++persona) {
    std::vector<PersonStats> people;
    for (int k = 0; k < per_persona; ++k) {
      const int index = persona + k * tacit::kPersonaCount;
      PersonStats stats;
      tacit::PrivacyFilter filter;
      auto status = fleet.Generate(index, 50000, [&](const tacit::RawEvent& raw) {
        if (auto e = filter.Apply(raw)) stats.Add(*e);
        return absl::OkStatus();
      });
      if (!status.ok()) return 1;
      people.push_back(std::move(stats));
    }
    rows.push_back(Summarize(
        "generator: " + std::string(tacit::PersonaName(static_cast<tacit::Persona>(persona))),
        people));
  }
  std::printf("| %-27s | %6s | %10s | %9s | %10s | %10s | %12s | %11s | %9s | %9s |\n", "source",
              "people", "events/min", "keys/min", "mouse/min", "clicks/min", "switches/h",
              "key gap ms", "cmd names", "top cmd");
  std::printf(
      "|-----------------------------|--------|------------|-----------|------------|------------|-"
      "-------------|-------------|-----------|-----------|\n");
  for (const Summary& s : rows) {
    std::printf("| %-27s | %6d | %10s | %9s | %10s | %10s | %12s | %11s | %9s | %9s |\n",
                s.source.c_str(), s.people, Cell(s.has_time, s.events_per_min, "%.0f").c_str(),
                Cell(s.has_time, s.keys_per_min, "%.0f").c_str(),
                Cell(s.has_time, s.mouse_per_min, "%.0f").c_str(),
                Cell(s.has_time, s.clicks_per_min, "%.1f").c_str(),
                Cell(s.has_time && s.has_apps, s.switches_per_hour, "%.0f").c_str(),
                Cell(s.has_time && s.median_key_gap > 0, s.median_key_gap, "%.0f").c_str(),
                Cell(s.has_commands, s.distinct_commands, "%.0f").c_str(),
                Cell(s.has_commands, s.top_command_share, "%.2f").c_str());
  }
  return 0;
}
