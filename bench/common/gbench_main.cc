// The main() of every Google-Benchmark bench (in place of benchmark_main):
// the framework's flags and --help as before, plus what every tacit bench
// does: an unknown flag exits 2, the report is one JSON object (the
// framework's own benchmarks and context as figures, plus the machine) on
// stdout or in --json FILE, the console table goes to stderr, and a benchmark
// that errored (SkipWithError) or a run that measured nothing exits 1.

#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "benchmark/benchmark.h"

namespace {

// Both reporters at once (the framework takes one display reporter without
// --benchmark_out), remembering which runs errored.
class TeeReporter : public benchmark::BenchmarkReporter {
 public:
  TeeReporter() : console_(benchmark::ConsoleReporter::OO_Tabular) {
    console_.SetOutputStream(&std::cerr);
    console_.SetErrorStream(&std::cerr);
    json_.SetOutputStream(&json_text_);
    json_.SetErrorStream(&std::cerr);
  }
  bool ReportContext(const Context& context) override {
    const bool console_ok = console_.ReportContext(context);
    return json_.ReportContext(context) && console_ok;
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      ++runs_;
      if (run.error_occurred) {
        errors_.push_back("benchmark " + run.benchmark_name() + " (" + run.error_message + ")");
      }
    }
    console_.ReportRuns(runs);
    json_.ReportRuns(runs);
  }
  void Finalize() override {
    console_.Finalize();
    json_.Finalize();
  }
  std::string json_text() const { return json_text_.str(); }
  const std::vector<std::string>& errors() const { return errors_; }
  int runs() const { return runs_; }

 private:
  benchmark::ConsoleReporter console_;
  benchmark::JSONReporter json_;
  std::ostringstream json_text_;
  std::vector<std::string> errors_;
  int runs_ = 0;
};

void PrintHelp() {
  benchmark::PrintDefaultHelp();
  std::printf("          [--json=<file>]  the JSON report (figures and machine); default stdout\n");
}

// Takes --json FILE / --json=FILE out of argv; false when --json has no value.
bool TakeJsonFlag(int* argc, char** argv, std::string* path) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      if (i + 1 >= *argc) return false;
      *path = argv[++i];
    } else if (std::strncmp(argv[i], "--json=", 7) == 0) {
      *path = argv[i] + 7;
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string name = argc > 0 ? argv[0] : "bench";
  std::string json_path;
  if (!TakeJsonFlag(&argc, argv, &json_path)) {
    std::fprintf(stderr, "%s: --json needs a file name\n", name.c_str());
    return tacit::bench::kExitBadFlags;
  }
  benchmark::Initialize(&argc, argv, PrintHelp);  // --help prints and exits 0
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return tacit::bench::kExitBadFlags;

  TeeReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  tacit::bench::BenchReport report(name.substr(name.rfind('/') + 1));
  auto framework = nlohmann::json::parse(reporter.json_text(), nullptr, false);
  if (report.Require(!framework.is_discarded(), "the framework's JSON output parses")) {
    report.figures() = std::move(framework);
  }
  report.Require(reporter.runs() > 0, "any benchmark ran (check --benchmark_filter)");
  for (const std::string& error : reporter.errors()) report.Require(false, error);
  return report.Finish(json_path, 1);
}
