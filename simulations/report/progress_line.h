#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace tacit::sim {

// A one-line live progress display ("round 3/10 | masked_input | top-1 0.512 |
// ETA 1m20s") redrawn in place on a terminal, and silent when the stream is not a
// terminal (logs and CI stay clean; the run folder holds the results).
class ProgressLine {
 public:
  explicit ProgressLine(int total_rounds, std::FILE* stream = stderr);
  ~ProgressLine();

  void Update(int round, const std::string& phase, double last_top1);
  // Ends the live line so later output starts on a fresh line.
  void Close();
  bool enabled() const { return enabled_; }

  // "1h02m", "3m20s", "12s": for ETAs and summaries.
  static std::string FormatDuration(double seconds);

 private:
  int total_rounds_;
  std::FILE* stream_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tacit::sim
