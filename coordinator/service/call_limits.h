#pragma once

// What one device may send the Federation service: how large each request
// may be and how often each method may be called.
//
// Sizes. gRPC refuses a message above the server's max receive size itself
// (RESOURCE_EXHAUSTED, from the length prefix); that size is the largest
// legitimate message of the task being served, a Submit carrying the masked
// input (MaxSubmitBytes), instead of a fixed 256 MiB. The small requests
// (CheckIn, DownloadModel, NextMessage, RoundResult) are capped far lower in
// the handler (kMaxSmallRequestBytes): none of them carries more than a
// session id and a few numbers.
//
// Rates. A token bucket per device and method (keyed by the TLS peer's
// device id), the check-in limit as before plus, for the other methods, a
// multiple of it: a device needs one check-in per round, so K calls of a
// method per check-in bounds a flood without touching honest rounds (a round
// takes about 4 Submits, a few NextMessage polls per phase, one model
// download with resumes, one RoundResult poll or a few).

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "coordinator/service/check_in_limiter.h"
#include "task/task_config.h"

namespace tacit::coordinator {

enum class FederationMethod { kCheckIn, kDownloadModel, kNextMessage, kSubmit, kRoundResult };
const char* MethodName(FederationMethod method);

// Every request but Submit.
inline constexpr int64_t kMaxSmallRequestBytes = 16 * 1024;

// The largest Submit of `task` for a model of `model_length` parameters:
// the masked input (model, evaluation coordinates and the weight element,
// packed at exactly `bits` bits each: secagg::PackedBytes), or the share keys / unmasking
// reply of a complete-graph cohort of SelectedPerRound() if larger, plus
// 64 KiB of envelope.
int64_t MaxSubmitBytes(const TaskConfig& task, uint64_t model_length);

// The smallest gRPC transport memory quota that cannot stall a round of
// `task`: every selected client's largest Submit in flight at once (they all
// upload when masked_input opens) kept under the 80% line above which gRPC
// shrinks the HTTP/2 flow-control windows, plus 32 MiB for the idle
// connections' buffers. Below it, half-received masked inputs fill the quota,
// the windows close and no input can finish: the masked-input phase stalls
// (measured: 10 clients of 2.5 MiB inputs under a 4 MiB quota sat 10 minutes).
int64_t TransportQuotaFloorBytes(const TaskConfig& task, uint64_t model_length);

struct CallLimitOptions {
  double check_ins_per_minute = 60;
  double check_in_burst = 10;
  int64_t max_submit_bytes = 256 << 20;
};

class CallLimits {
 public:
  using Clock = CheckInLimiter::Clock;
  explicit CallLimits(const CallLimitOptions& options);

  // ResourceExhausted when a request of `request_bytes` is too large for `method`.
  absl::Status CheckSize(FederationMethod method, size_t request_bytes) const;
  // True when `device` may call `method` now (and takes a token); otherwise
  // `*retry_seconds` says when the next token is due.
  bool AllowRate(FederationMethod method, const std::string& device, Clock::time_point now,
                 double* retry_seconds);
  // CheckSize, then AllowRate as a ResourceExhausted status naming the
  // method and when to retry: for every method but CheckIn, whose rate limit
  // is a RetryAfter answer the client already understands.
  absl::Status Admit(FederationMethod method, const std::string& device, size_t request_bytes,
                     Clock::time_point now);

  // Calls of each method allowed per check-in (rate and burst multiplier).
  static double CallsPerCheckIn(FederationMethod method);

 private:
  static constexpr int kMethods = 5;
  CheckInLimiter& LimiterOf(FederationMethod method);
  const int64_t max_submit_bytes_;
  CheckInLimiter limiters_[kMethods];
};

}  // namespace tacit::coordinator
