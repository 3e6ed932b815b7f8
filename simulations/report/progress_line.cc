#include "simulations/report/progress_line.h"

#include <unistd.h>

#include <cmath>

#include "absl/strings/str_format.h"

namespace tacit::sim {

ProgressLine::ProgressLine(int total_rounds, std::FILE* stream)
    : total_rounds_(total_rounds),
      stream_(stream),
      enabled_(::isatty(::fileno(stream)) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() { Close(); }

std::string ProgressLine::FormatDuration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  if (s >= 3600) return absl::StrFormat("%ldh%02ldm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%ldm%02lds", s / 60, s % 60);
  return absl::StrFormat("%lds", s);
}

void ProgressLine::Update(int round, const std::string& phase, double last_top1) {
  if (!enabled_) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // Rounds before `round` are done; estimate the rest from their mean duration.
  int done = std::max(0, round - 1);
  std::string eta = done > 0 ? FormatDuration(elapsed / done * (total_rounds_ - done)) : "--";
  std::string top1 = last_top1 >= 0 ? absl::StrFormat("%.3f", last_top1) : "--";
  absl::FPrintF(stream_, "\r\033[Kround %d/%d | %-14s | top-1 %s | elapsed %s | ETA %s", round,
                total_rounds_, phase, top1, FormatDuration(elapsed), eta);
  std::fflush(stream_);
  drawn_ = true;
}

void ProgressLine::Close() {
  if (enabled_ && drawn_) {
    std::fputc('\n', stream_);
    std::fflush(stream_);
    drawn_ = false;
  }
}

}  // namespace tacit::sim
