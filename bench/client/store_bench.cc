// Import throughput of the largest shared file into the encrypted store, the
// store's append path alone, and the memory each phase used. Every phase runs
// in its own child process (one core: the work is single-threaded) so its
// peak memory is its own. The table goes to stderr, the JSON report
// (bench/common) to stdout or --json FILE; a phase that fails exits 1.
//
// Usage: build/bench/client_store_bench [DATA_DIR] [APPEND_EVENTS] [--json FILE]
//   DATA_DIR defaults to $TACIT_SHARED_DATA_DIR or ../shared/data.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "client/importers/importers.h"
#include "client/privacy_filter.h"
#include "client/store/event_store.h"
#include "client/store/store_import.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  double seconds = 0;
  int64_t events = 0;
  int64_t extra = 0;  // phase-specific (bytes on disk)
};

// Runs `phase` in a child; returns its result and peak RSS in KiB.
bool RunInChild(const std::function<Result()>& phase, Result* result, long* max_rss_kib) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Result r = phase();
    ssize_t n = ::write(fds[1], &r, sizeof r);
    ::_exit(n == sizeof r ? 0 : 1);
  }
  ::close(fds[1]);
  ssize_t n = ::read(fds[0], result, sizeof *result);
  ::close(fds[0]);
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  *max_rss_kib = usage.ru_maxrss;
  return n == sizeof *result && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int64_t BytesOnDisk(const std::string& dir) {
  int64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) total += static_cast<int64_t>(entry.file_size());
  }
  return total;
}

std::string FreshDir(const std::string& name) {
  std::string dir = (std::filesystem::temp_directory_path() / name).string();
  std::filesystem::remove_all(dir);
  return dir;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Die(const absl::Status& status) {
  std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
  ::_exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("TACIT_SHARED_DATA_DIR");
  std::string data = env != nullptr ? env : "../shared/data";
  int64_t append_events = 1000000;
  CLI::App app{"Import and append throughput of the encrypted store, and their memory",
               "client_store_bench"};
  app.add_option("data_dir", data, "the shared data folder")->capture_default_str();
  app.add_option("append_events", append_events, "events the append phases write")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  tacit::bench::CommonFlags common;
  tacit::bench::AddCommonFlags(app, &common);
  if (auto exit_code = tacit::bench::ParseFlags(app, argc, argv)) return *exit_code;
  // Every exit below writes the report: what ran, and what is missing.
  tacit::bench::BenchReport bench_report("client_store_bench");
  const std::string largest = data + "/balabit-mouse/user9/session_0335985747";
  if (!std::filesystem::exists(largest)) {
    bench_report.Require(false, largest + " not found: pass the shared data folder");
    return bench_report.Finish(common.json_path, 1);
  }
  const auto file_bytes = static_cast<int64_t>(std::filesystem::file_size(largest));

  struct Row {
    std::string name;
    Result result;
    long rss_kib = 0;
  };
  std::vector<Row> rows;
  auto run = [&](const std::string& name, const std::function<Result()>& phase) {
    Row row{name, {}, 0};
    if (!bench_report.Require(
            RunInChild(phase, &row.result, &row.rss_kib),
            "phase '" + name + "' ran to the end (it failed; see its error above)")) {
      return;
    }
    // A phase that stored or parsed nothing measured nothing.
    const bool is_baseline = rows.empty();
    if (!is_baseline) {
      bench_report.Require(row.result.events > 0,
                           "phase '" + name + "' handled at least one event");
    }
    rows.push_back(row);
  };

  run("baseline (process, no work)", [] { return Result{}; });

  run("parse largest file (x20)", [&] {
    Result r;
    auto start = Clock::now();
    for (int i = 0; i < 20; ++i) {
      auto report = tacit::ImportFile(tacit::DataFormat::kBalabitMouse, largest, {},
                                      [](const tacit::RawEvent&) { return absl::OkStatus(); });
      if (!report.ok()) Die(report.status());
      r.events += report->events;
    }
    r.seconds = Seconds(start);
    return r;
  });

  run("import largest file into store", [&] {
    std::string dir = FreshDir("tacit-bench-import");
    auto store = tacit::EventStore::OpenInDirectory(dir);
    if (!store.ok()) Die(store.status());
    Result r;
    auto start = Clock::now();
    // Balabit times are seconds since the session start: placed so the last
    // event is now, as `tacit-client import` does (stored times must be dates).
    tacit::StoreImportOptions options;
    auto latest = tacit::LatestEventTime(tacit::DataFormat::kBalabitMouse, largest, options.import);
    if (!latest.ok()) Die(latest.status());
    options.shift_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() -
                       *latest;
    auto report = tacit::ImportIntoStore(**store, tacit::DataFormat::kBalabitMouse, largest,
                                         options, tacit::PrivacyPolicy());
    if (!report.ok()) Die(report.status());
    r.seconds = Seconds(start);
    r.events = report->stored;
    r.extra = BytesOnDisk(dir);
    store->reset();
    std::filesystem::remove_all(dir);
    return r;
  });

  // The append path alone: pre-filtered events (the largest file's, repeated
  // with advancing times) into the store, 100,000 per transaction.
  auto append = [&](int64_t per_commit) {
    return [&, per_commit] {
      std::vector<tacit::Event> events;
      tacit::PrivacyFilter filter;
      auto report = tacit::ImportFile(tacit::DataFormat::kBalabitMouse, largest, {},
                                      [&](const tacit::RawEvent& raw) {
                                        if (auto e = filter.Apply(raw)) events.push_back(*e);
                                        return absl::OkStatus();
                                      });
      if (!report.ok()) Die(report.status());
      std::string dir = FreshDir("tacit-bench-append");
      auto store = tacit::EventStore::OpenInDirectory(dir);
      if (!store.ok()) Die(store.status());
      auto writer = (*store)->StartWriter();
      if (!writer.ok()) Die(writer.status());
      Result r;
      auto start = Clock::now();
      for (int64_t i = 0; i < append_events; ++i) {
        tacit::Event e = events[static_cast<size_t>(i) % events.size()];
        e.time_ms += (i / static_cast<int64_t>(events.size())) * 3600000;
        if (auto s = (*writer)->Add(e); !s.ok()) Die(s);
        if ((i + 1) % per_commit == 0) {
          if (auto s = (*writer)->Commit(); !s.ok()) Die(s);
        }
      }
      if (auto s = (*writer)->Commit(); !s.ok()) Die(s);
      r.seconds = Seconds(start);
      r.events = append_events;
      r.extra = BytesOnDisk(dir);
      writer->reset();
      store->reset();
      std::filesystem::remove_all(dir);
      return r;
    };
  };
  run("append path, 100,000 per commit", append(100000));
  run("append path, 1,000 per commit", append(1000));

  std::fprintf(stderr, "largest shared file: %s (%.1f MiB)\n\n", largest.c_str(),
               file_bytes / 1048576.0);
  std::fprintf(stderr, "| %-34s | %10s | %8s | %12s | %12s | %14s |\n", "phase", "events",
               "seconds", "events/s", "peak RSS MiB", "store B/event");
  std::fprintf(stderr, "|%s|%s|%s|%s|%s|%s|\n", std::string(36, '-').c_str(),
               std::string(12, '-').c_str(), std::string(10, '-').c_str(),
               std::string(14, '-').c_str(), std::string(14, '-').c_str(),
               std::string(16, '-').c_str());
  nlohmann::json table = nlohmann::json::array();
  for (const Row& row : rows) {
    const Result& r = row.result;
    table.push_back({{"phase", row.name},
                     {"events", r.events},
                     {"seconds", r.seconds},
                     {"peak_rss_mib", row.rss_kib / 1024.0},
                     {"store_bytes", r.extra}});
    std::fprintf(stderr, "| %-34s | %10lld | %8.3f | %12.0f | %12.1f | %14s |\n", row.name.c_str(),
                 static_cast<long long>(r.events), r.seconds,
                 r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0.0,
                 row.rss_kib / 1024.0,
                 r.extra > 0 && r.events > 0
                     ? std::to_string(static_cast<double>(r.extra) / static_cast<double>(r.events))
                           .substr(0, 5)
                           .c_str()
                     : "-");
  }
  bench_report.figures()["largest_file"] = largest;
  bench_report.figures()["largest_file_bytes"] = file_bytes;
  bench_report.figures()["rows"] = table;
  bench_report.Require(rows.size() == 5, "all five phases ran");
  return bench_report.Finish(common.json_path, 1);
}
