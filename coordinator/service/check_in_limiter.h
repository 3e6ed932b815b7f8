#pragma once

// A per-key rate limit: a token bucket per key (a device id) holding `burst`
// calls, refilled at `per_minute`. CallLimits (call_limits.h) keeps one per
// Federation method; a device that calls too often is told to retry later
// instead of being served.

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace tacit::coordinator {

class CheckInLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  CheckInLimiter(double per_minute, double burst) : per_second_(per_minute / 60), burst_(burst) {}

  // True when `device` may check in now (and takes a token). Otherwise
  // `*retry_seconds` says when the next token is due.
  bool Allow(const std::string& device, Clock::time_point now, double* retry_seconds);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  static constexpr size_t kForgetAbove = 200000;  // devices tracked before idle ones are dropped
  const double per_second_;
  const double burst_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace tacit::coordinator
